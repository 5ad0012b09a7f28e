"""Delivering under faults: a connection dropped before the write, a claim that would run out mid-send."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError
from django.utils import timezone

import events
from deliveries import delivering, fanout, messages
from deliveries.models import Attempt, Delivery
from deliveries.transport import OutgoingRequest, TransportResult
from tests.support.receiver import always
from tests.support.running import deliver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def claimed_batch(event_type, make_webhook, organisation):
    """One claimed delivery, sent (answered 200), not yet recorded."""
    event_type("invoice.paid")
    make_webhook("http://127.0.0.1:9/hook")
    event = events.emit("invoice.paid", {"n": 1}, organisation=organisation)
    fanout.fan_out([event.id])
    claimed = delivering.claim_due(timezone.now(), 10)
    return [
        delivering.Sent(
            d,
            messages.build_request(d.event, d.webhook, messages.envelope(d.event, d.event.type, d.event.payload)),
            TransportResult(status=200),
        )
        for d in claimed
    ]


def drop_connection_once(monkeypatch, *, after_commit: bool) -> list[int]:
    real_write, calls = delivering._write, []

    def write(*args):
        calls.append(1)
        if after_commit:
            real_write(*args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        if not after_commit:
            return real_write(*args)
        return []

    monkeypatch.setattr(delivering, "_write", write)
    return calls


def test_a_write_cut_before_its_commit_is_written_again(claimed_batch, monkeypatch):
    # given
    calls = drop_connection_once(monkeypatch, after_commit=False)

    # when
    delivering.record(claimed_batch)

    # then: recorded, so the receiver does not get it a second time after the lease
    assert len(calls) == 2
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.claim_token) == ("succeeded", 1, "")
    assert Attempt.objects.count() == 1


def test_a_write_whose_commit_landed_is_not_written_twice(claimed_batch, monkeypatch):
    # given: the commit went through, only its answer was lost
    calls = drop_connection_once(monkeypatch, after_commit=True)

    # when
    delivering.record(claimed_batch)

    # then: the claim is gone, so nothing is marked a second time
    assert len(calls) == 1
    assert Attempt.objects.count() == 1
    assert Delivery.objects.get().attempts == 1


def test_requests_that_cannot_start_in_time_are_not_sent(receiver):
    # given
    requests = [OutgoingRequest(receiver.on("/r", always(200)), {}, b"{}") for _ in range(3)]

    # when
    late = delivering.send_all(requests, start_by=time.monotonic() - 1)
    in_time = delivering.send_all(requests, start_by=time.monotonic() + 30)

    # then
    assert late == [None, None, None]
    assert [result.status for result in in_time] == [200, 200, 200]
    assert len(receiver.requests) == 3


def test_a_claim_too_short_for_its_request_is_released_and_queued_again(claimed_batch, settings, receiver):
    # given: a lease that leaves no time to start a request (TOTAL_TIMEOUT + the write take it all)
    settings.HOOKLINE = {**settings.HOOKLINE, "CLAIM_LEASE": 31, "TOTAL_TIMEOUT": 30}
    delivery = Delivery.objects.get()
    Delivery.objects.update(claimed_until=None, claim_token="")
    delivery.webhook.url = receiver.on("/r", always(200))
    delivery.webhook.save()

    # when
    retries = deliver()

    # then: nothing sent, the claim released, and the delivery queued again at once
    assert retries and {(retry.delivery_id, retry.delay) for retry in retries} == {(delivery.id, 0.0)}
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_until, delivery.claim_token) == (
        "pending",
        0,
        None,
        "",
    )
