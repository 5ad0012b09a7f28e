"""Delivery control through real `celery worker` processes: rate limit, breaker, pause/resume and FIFO under kill -9."""

from __future__ import annotations

import itertools
import os
import threading
import time

import pytest
from django.db import transaction

import events
from deliveries import control
from deliveries.models import Delivery, runtime_of
from hooks.models import Webhook
from tests.support.receiver import Reply, always
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {"RETRY_BASE_DELAY": 0.2, "RETRY_MAX_DELAY": 1, "RETRY_JITTER": 0}


def runtime(webhook):
    """What the workers keep about the endpoint, as stored now."""
    return runtime_of(Webhook.objects.select_related("runtime").get(pk=webhook.pk))


def emit(count: int, organisation) -> list:
    with transaction.atomic():
        return [events.emit("invoice.paid", {"n": n}, organisation=organisation) for n in range(count)]


def numbers(requests) -> list[int]:
    return [request.json["data"]["n"] for request in requests]


def test_the_rate_limit_holds_within_10_percent_over_30_s_with_3_workers(
    start_worker, receiver, make_webhook, event_type
):
    # given: 20 deliveries/s (burst 20) and far more waiting than 30 s can send
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/limited", always(200)), rate_limit=20, rate_limit_burst=20)
    workers = [start_worker(ready=False) for _ in range(3)]
    for worker in workers:
        worker.wait_ready()

    # when
    emit(900, webhook.organisation)

    # then: count what arrives in the 30 s after the first request
    first = wait_until(lambda: receiver.at("/limited"), timeout=30, message="a first request")[0].at
    time.sleep(max(0.0, first + 31 - time.time()))
    window = [r for r in receiver.at("/limited") if r.at < first + 30]
    expected = 20 * 30
    assert expected * 0.9 <= len(window) <= expected * 1.1, len(window)
    # waiting for the limit used no attempts
    assert set(Delivery.objects.filter(status="succeeded").values_list("attempts", flat=True)) == {1}
    assert not Delivery.objects.filter(attempts__gt=1).exists()


def test_the_breaker_opens_on_a_failing_receiver_and_a_probe_closes_it(
    start_worker, receiver, make_webhook, event_type
):
    # given: a receiver down for a while; without the breaker 4 quick attempts would fail every delivery
    event_type("invoice.paid")
    down = threading.Event()
    down.set()
    behaviour = lambda request, count: Reply(500 if down.is_set() else 200)  # noqa: E731
    webhook, _ = make_webhook(receiver.on("/flaky", behaviour), breaker_threshold=3, breaker_cooldown=2)
    start_worker(hookline={**FAST_RETRIES, "MAX_ATTEMPTS": 4})

    # when
    emit(10, webhook.organisation)

    # then: it opens, and while it is open nothing is sent
    wait_until(lambda: runtime(webhook).breaker_state == "open", timeout=30, message="open")
    opened = runtime(webhook)
    assert "consecutive failed attempts" in opened.breaker_reason
    sent_while_open = len(receiver.at("/flaky"))
    time.sleep(1.0)  # within the 2 s cool-down
    assert len(receiver.at("/flaky")) == sent_while_open
    time.sleep(4.0)  # probes fail and open it again
    down.clear()  # the receiver recovers
    recovered = time.time()
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == 10, timeout=30, message="all sent")
    closed = runtime(webhook)
    assert (closed.breaker_state, closed.breaker_failures, closed.breaker_reason) == (
        "closed",
        0,
        "the probe succeeded",
    )
    # the time spent open burnt no attempts: no delivery failed, none used its 4 attempts
    assert max(Delivery.objects.values_list("attempts", flat=True)) < 4
    failures = [r for r in receiver.at("/flaky") if r.at < recovered]
    assert len(failures) <= 10 + 4, len(failures)  # the first batch, then one probe per cool-down


def test_1000_held_deliveries_are_sent_in_order_after_resume(worker, receiver, make_webhook, event_type):
    # given: two paused endpoints get 1,000 events: one FIFO, one with a rate limit
    event_type("invoice.paid")
    ordered, _ = make_webhook(receiver.on("/ordered", always(200)), ordered=True)
    limited, _ = make_webhook(receiver.on("/limited", always(200)), rate_limit=250)
    for webhook in (ordered, limited):
        control.pause(webhook)
    emit(1000, ordered.organisation)
    wait_until(lambda: Delivery.objects.filter(status="held").count() == 2000, timeout=60, message="2,000 held")
    time.sleep(0.5)
    assert receiver.requests == []

    # when
    started = time.monotonic()
    assert control.resume(ordered) == 1000
    assert control.resume(limited) == 1000

    # then: all of them, oldest first
    # ~4 s at the limit on a quiet machine; beside the other lanes of `make test` on RabbitMQ (load ~16 on
    # 2 cores) it once took over 60 s (issue 21's notes). What this test asserts is order and the limit.
    wait_until(lambda: len(receiver.at("/limited")) >= 1000, timeout=180, message="1,000 sent at the limit")
    took = time.monotonic() - started
    # One at a time (FIFO): ~25 s on a quiet machine, four times that beside the rest of `make test`.
    wait_until(lambda: len(receiver.at("/ordered")) >= 1000, timeout=300, message="1,000 sent in order")
    assert numbers(receiver.at("/ordered")) == list(range(1000))
    # the rate-limited endpoint (not FIFO): at its limit, oldest first, sent concurrently within a batch
    got = numbers(receiver.at("/limited"))
    assert sorted(got) == list(range(1000))
    assert took >= (1000 - 250) / 250 * 0.9
    # "in order" without FIFO: claims take the oldest due first and the endpoint's in-flight cap keeps the
    # oldest of each claim, so what is out of place comes from concurrency alone: 20 requests in flight
    # answered in any order, and the worker's runs claiming side by side (a run skips the rows another holds
    # for the instant before it releases those over the cap). Measured 102-141 on a loaded 2-core machine
    # (312-897 while a claim's RETURNING order decided which rows the cap kept); bound: six batches.
    displaced = max(abs(position - n) for position, n in enumerate(got))
    assert displaced < 6 * 50, displaced
    # The receiver has seen every request; the worker records the last answers a moment later.
    wait_until(lambda: not Delivery.objects.exclude(status="succeeded").exists(), timeout=30, message="all recorded")
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def _sender_pid(request, receiver, pids: list[int]) -> int | None:
    """The worker process that holds the client end of ``request``'s connection (from /proc/net/tcp)."""
    server_port = receiver.server.server_address[1]
    inode = None
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
            if int(local, 16) == request.client_port and int(remote, 16) == server_port:
                inode = fields[9]
    for pid in pids:
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd")):
                return pid
        except OSError:
            continue
    return None


def test_fifo_order_holds_under_3_workers_and_a_kill_9_mid_send(start_worker, receiver, make_webhook, event_type):
    # given: an ordered endpoint that fails some requests and hangs on the 25th (a worker dies there)
    event_type("invoice.paid")
    hang = threading.Event()

    def behaviour(request, count):
        if count == 25:
            hang.set()
            return Reply(200, delay=3.0)
        return Reply(500 if count % 7 == 0 else 200)

    webhook, _ = make_webhook(receiver.on("/fifo", behaviour), ordered=True)
    options = {**FAST_RETRIES, "CLAIM_LEASE": 8, "TOTAL_TIMEOUT": 5, "READ_TIMEOUT": 5}
    workers = [start_worker(ready=False, hookline=options) for _ in range(3)]
    for worker in workers:
        worker.wait_ready()

    # when: 60 events; the worker sending the 25th request is killed while it waits for the answer
    emit(60, webhook.organisation)
    hang.wait(timeout=60)
    hung = receiver.at("/fifo")[24]
    pid = _sender_pid(hung, receiver, [worker.pid for worker in workers])
    assert pid is not None, "no worker holds the hung connection"
    killed = next(worker for worker in workers if worker.pid == pid)
    killed.kill()

    # then: the others take over after the lease, and the receiver saw event order throughout
    wait_until(
        lambda: Delivery.objects.filter(webhook=webhook, status="succeeded").count() == 60,
        timeout=120,
        message="60 delivered",
    )
    got = numbers(receiver.at("/fifo"))
    assert sorted(set(got)) == list(range(60))
    # never an event before an earlier one: repeats only of the one just sent (a retry, the killed send)
    assert all(later >= earlier for earlier, later in itertools.pairwise(got)), got
    assert got.count(hung.json["data"]["n"]) >= 2  # the killed send went out again
