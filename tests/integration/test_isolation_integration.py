"""Isolation and timing through real workers: a slow or hanging endpoint delays nobody else (issue 21)."""

from __future__ import annotations

import itertools
import time

import pytest
from django.db import transaction

import events
from deliveries import endpoint_actions
from deliveries.models import Attempt, Delivery
from tests.support.receiver import InFlight, Reply, always, sequence
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.latency, pytest.mark.django_db(transaction=True)]

# The README's worker command: one process, 4 threads.
README_WORKER = {"pool": "threads", "concurrency": 4}


def hang(seconds: float):
    return lambda request, count: Reply(200, delay=seconds)


def emit(key: str, n: int, organisation) -> list:
    with transaction.atomic():
        return [events.emit(key, {"n": i}, organisation=organisation) for i in range(n)]


def test_a_hanging_endpoint_does_not_delay_another_endpoints_new_events(
    start_worker, receiver, make_webhook, event_type
):
    # given: one endpoint that hangs until the read timeout, and a healthy one
    event_type("slow.thing")
    event_type("fast.thing")
    slow, _ = make_webhook(receiver.on("/hang", hang(8)), event_types=["slow.thing"])
    fast, _ = make_webhook(receiver.on("/fast", always(200)), event_types=["fast.thing"])
    start_worker(hookline={"READ_TIMEOUT": 6, "TOTAL_TIMEOUT": 10}, **README_WORKER)
    emit("slow.thing", 1, slow.organisation)
    wait_until(lambda: receiver.at("/hang"), timeout=10, message="the hanging request")
    # when: events for the healthy endpoint, emitted one by one while the hang goes on
    emitted_at = []
    for _n in range(5):
        emitted_at.append(time.time())
        emit("fast.thing", 1, fast.organisation)
        time.sleep(0.05)
    # then: each arrives within a fraction of a second, not when the hang ends
    wait_until(lambda: len(receiver.at("/fast")) == 5, timeout=5, message="5 healthy deliveries")
    latencies = sorted(
        got.at - sent for got, sent in zip(sorted(receiver.at("/fast"), key=lambda r: r.at), emitted_at, strict=True)
    )
    assert latencies[-1] < 0.5, latencies
    # and they are recorded while the slow request still hangs
    wait_until(
        lambda: Delivery.objects.filter(webhook=fast, status="succeeded").count() == 5,
        timeout=2,
        message="recorded before the hang ends",
    )
    assert Delivery.objects.get(webhook=slow).status == "pending"


def test_a_slow_endpoint_with_a_backlog_holds_at_most_its_cap_of_sender_slots(
    start_worker, receiver, make_webhook, event_type
):
    # given: a slow endpoint capped at 2 requests in flight (its contract), and a healthy endpoint
    event_type("slow.thing")
    event_type("fast.thing")
    slow_reply = InFlight(0.5)

    slow, _ = make_webhook(
        receiver.on("/slow", slow_reply), event_types=["slow.thing"], contract={"policy": {"max_in_flight": 2}}
    )
    fast, _ = make_webhook(receiver.on("/fast", always(200)), event_types=["fast.thing"])
    start_worker(hookline={"SEND_CONCURRENCY": 8}, **README_WORKER)
    # when: a backlog of 12 for the slow endpoint, then 5 for the healthy one
    emit("slow.thing", 12, slow.organisation)
    time.sleep(0.3)
    started = time.time()
    emit("fast.thing", 5, fast.organisation)
    # then: the healthy ones go at once; the slow ones two at a time, all of them in the end
    wait_until(lambda: len(receiver.at("/fast")) == 5, timeout=5, message="healthy deliveries")
    assert max(got.at for got in receiver.at("/fast")) - started < 0.5
    wait_until(
        lambda: Delivery.objects.filter(webhook=slow, status="succeeded").count() == 12,
        timeout=30,
        message="the slow backlog",
    )
    assert slow_reply.peak == 2
    assert len(receiver.at("/slow")) == 12  # none sent twice


def test_an_endpoint_deleted_while_its_request_hangs_costs_no_other_delivery_its_log(
    start_worker, receiver, make_webhook, event_type
):
    # given: two endpoints answering after the same second, so that both finish (and are recorded) together
    event_type("invoice.paid")
    doomed, _ = make_webhook(receiver.on("/doomed", hang(1.5)))
    kept, _ = make_webhook(receiver.on("/kept", hang(1.5)))
    start_worker(hookline={"TOTAL_TIMEOUT": 3, "CLAIM_LEASE": 5, "STRANDED_AFTER": 1, "WORKER_CHECK_INTERVAL": 0.5})
    emit("invoice.paid", 1, doomed.organisation)
    wait_until(lambda: receiver.at("/doomed") and receiver.at("/kept"), timeout=10, message="both requests in flight")
    # when: the endpoint is deleted (force) while its request is in flight
    endpoint_actions.delete(doomed, force=True)
    # then: the other delivery shows its attempt, and is not sent again once the lease would have run out
    wait_until(
        lambda: Delivery.objects.filter(webhook=kept, status="succeeded").exists(),
        timeout=10,
        message="the kept delivery recorded",
    )
    assert Attempt.objects.filter(delivery__webhook=kept).count() == 1
    time.sleep(6)  # past CLAIM_LEASE: an unrecorded delivery would be claimed and sent again
    assert len(receiver.at("/kept")) == 1
    assert not Delivery.objects.filter(webhook_id=doomed.pk).exists()


def test_a_retry_is_sent_at_its_due_time_never_before_and_at_most_250_ms_after(
    start_worker, receiver, make_webhook, event_type
):
    # given: an endpoint that fails twice, with a 1 s and a 1.5 s retry delay (no jitter)
    event_type("invoice.paid")
    webhook, _ = make_webhook(
        receiver.on("/flaky", sequence(500, 500, 200)), contract={"policy": {"delays": [1, 1.5], "jitter": 0}}
    )
    start_worker(**README_WORKER)
    # when
    emit("invoice.paid", 1, webhook.organisation)
    # then
    wait_until(lambda: Delivery.objects.filter(status="succeeded").exists(), timeout=15, message="success")
    attempts = list(Attempt.objects.order_by("number"))
    assert [a.response_status for a in attempts] == [500, 500, 200]
    for previous, retry in itertools.pairwise(attempts):
        late = (retry.created_at - previous.next_retry_at).total_seconds()
        assert 0 <= late <= 0.25, (previous.next_retry_at, retry.created_at)


def test_a_batch_endpoint_sends_as_soon_as_a_batch_is_full(start_worker, receiver, make_webhook, event_type):
    # given: batches of 3, or whatever waited 10 s
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/batch", always(200)), contract={"batch": {"max_count": 3, "max_wait": 10}})
    start_worker(**README_WORKER)
    # when: three events, one by one
    started = time.time()
    for _n in range(3):
        emit("invoice.paid", 1, webhook.organisation)
    # then: one POST of three, long before max_wait
    wait_until(lambda: receiver.at("/batch"), timeout=5, message="the full batch")
    [got] = receiver.at("/batch")
    assert len(got.json) == 3 and got.at - started < 1.0
