"""The transport's total deadline: a receiver that drips its answer is cut at TOTAL_TIMEOUT."""

from __future__ import annotations

import time

import pytest

from deliveries import transport
from deliveries.transport import deadline
from tests.support.receiver import always

TIMEOUTS = {"READ_TIMEOUT": 1, "TOTAL_TIMEOUT": 1.5}


@pytest.fixture
def short_timeouts(settings):
    settings.HOOKLINE = {**settings.HOOKLINE, **TIMEOUTS}


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        pytest.param(always(200, body=b"x" * 500, drip=0.05), 200, id="a body dripping after a 200"),
        pytest.param(
            always(200, headers={"X-Padding": "p" * 200}, drip=0.05, drip_head=True), None, id="a dripping head"
        ),
    ],
)
def test_a_dripping_answer_is_cut_at_the_total_timeout(short_timeouts, receiver, reply, status):
    # given: every byte comes well within the read timeout, the whole answer would take 10+ s
    url = receiver.on("/drip", reply)

    # when
    started = time.monotonic()
    result = transport.post(transport.OutgoingRequest(url, {}, b"{}"))

    # then: cut at the deadline; a head cut short gives no status (a fragment is no answer)
    assert time.monotonic() - started < TIMEOUTS["TOTAL_TIMEOUT"] + 0.5
    assert result.status == status
    assert "cut at the total timeout" in result.error


def test_a_prompt_answer_is_not_cut_and_its_connection_is_reused(short_timeouts, receiver):
    # given
    url = receiver.on("/ok", always(200))

    # when: more requests than fit in the deadline, one after the other on the same connection
    results = [transport.post(transport.OutgoingRequest(url, {}, b"{}")) for _ in range(20)]
    time.sleep(TIMEOUTS["TOTAL_TIMEOUT"] + 0.2)  # the first request's deadline has passed
    late = transport.post(transport.OutgoingRequest(url, {}, b"{}"))

    # then: the watchdog did not cut a kept-alive connection after its request had finished
    assert [(r.status, r.error) for r in [*results, late]] == [(200, "")] * 21


def test_cutting_a_request_that_already_gave_its_connection_back_is_harmless():
    # given: a response whose connection went back to the pool (urllib3 refuses to shut it down)
    class Released:
        def shutdown(self):
            raise RuntimeError("Cannot shutdown as connection has already been released to the pool")

    watch = deadline.Watch(time.monotonic())
    watch.response = Released()

    # when / then: the watchdog thread must survive it
    watch.cut()
