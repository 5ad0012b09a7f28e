"""Scenario 4: receivers that fail in every way we know; deliveries end succeeded or failed, workers never stall."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db.models import Max

from deliveries.models import Attempt, Delivery
from hookline.conf import DEFAULTS
from hooks.models import Webhook
from tests.faults.conftest import SHORT, emit_numbered, scaled
from tests.support.ledger import delivery_log_problems
from tests.support.receiver import Reply, always, read_journal
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

HUGE = 50 * 2**20


def per_event(first: Reply, then: Reply, *, only_if=lambda request: True):
    """Answer ``first`` to an event's first request (when ``only_if`` selects the request), ``then`` afterwards."""
    seen: Counter = Counter()
    lock = threading.Lock()

    def behaviour(request, count):
        with lock:
            seen[request.webhook_id] += 1
            number = seen[request.webhook_id]
        return first if number == 1 and only_if(request) else then

    return behaviour


def chaos(receiver) -> tuple[dict, dict]:
    """The endpoints' behaviours: those expected to succeed in the end, and the hopeless ones."""
    hopeful = {
        "/ok": always(200),
        "/flaky": per_event(Reply(500), Reply(200), only_if=lambda request: request.json["data"]["n"] % 2 == 0),
        "/retry-after": per_event(Reply(429, headers={"Retry-After": "2"}), Reply(200)),
        "/huge": always(200, body_size=HUGE),
        "/slow-body": always(200, body=b"x" * 1000, drip=0.25),
    }
    hopeless = {
        "/hang": always(200, delay=30),
        "/cut": always(200, cut_after=10),
        "/redirect": always(301, headers={"Location": receiver.url("/internal")}),
        "/slow-headers": always(200, headers={"X-Padding": "p" * 100}, drip=0.1, drip_head=True),
    }
    return hopeful, hopeless


def test_receiver_chaos_ends_in_success_or_invalid_without_stalling(
    workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given: one endpoint per misbehaviour, one that is healthy, and an operator endpoint for state events
    event_type("invoice.paid")
    hopeful, hopeless = chaos(journal_receiver)
    webhooks = {
        path: make_webhook(journal_receiver.on(path, behaviour), event_types=["invoice.*"])[0]
        for path, behaviour in {**hopeful, **hopeless}.items()
    }
    make_webhook(
        journal_receiver.on("/ops", always(200)),
        event_types=["hookline.endpoint.invalid", "hookline.endpoint.deactivated"],
    )  # named: no wildcard selects them
    settings = {**SHORT, "MAX_ATTEMPTS": 3}
    worker = workers(hookline=settings, concurrency=4, beat=True)
    count = scaled(10, 50)
    memory = {"baseline": worker.rss_bytes(), "peak": 0}
    stop = threading.Event()

    def sample_memory():
        while not stop.wait(0.25):
            memory["peak"] = max(memory["peak"], worker.rss_bytes())

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()

    # when
    started = time.monotonic()
    emit_numbered(range(count), organisation)
    try:
        ok_done = wait_until(
            lambda: Delivery.objects.filter(webhook=webhooks["/ok"], status="succeeded").count() == count,
            timeout=60,
            interval=0.1,
            message="the healthy endpoint's deliveries",
        )
        ok_seconds = time.monotonic() - started
        wait_until(
            lambda: not Delivery.objects.filter(webhook__in=webhooks.values(), status="pending").exists(),
            timeout=scaled(120, 240),
            interval=0.25,
            message="every delivery finished",
        )
    finally:
        stop.set()
        sampler.join()
    drained = time.monotonic()

    # then: the hopeful ones succeeded, the hopeless ones failed after the schedule and their endpoints are invalid
    assert ok_done
    by_path = {
        path: dict(Counter(Delivery.objects.filter(webhook=webhook).values_list("status", flat=True)))
        for path, webhook in webhooks.items()
    }
    for path in hopeful:
        assert by_path[path] == {"succeeded": count}, (path, by_path[path])
    for path in hopeless:
        assert by_path[path] == {"failed": count}, (path, by_path[path])
        assert Webhook.objects.get(id=webhooks[path].id).state == "invalid"
        spent = Delivery.objects.filter(webhook=webhooks[path]).aggregate(most=Max("attempts"))["most"]
        assert spent == settings["MAX_ATTEMPTS"], path
    received = read_journal(journal_receiver.journal_path)
    assert not [r for r in received if r.path == "/internal"], "a redirect was followed"
    # Each hopeless endpoint's invalidation emitted one operational event (delivered on its own time).
    wait_until(
        lambda: len({r.json["data"]["webhook"] for r in journal_receiver.at("/ops")}) >= len(hopeless),
        timeout=30,
        message="the hookline.endpoint.invalid events",
    )
    operational = [r.json["data"]["webhook"] for r in journal_receiver.at("/ops")]
    assert sorted(operational) == sorted(webhooks[path].id for path in hopeless)
    # Each event asked for one 429 with Retry-After: 2, and the retry waited for it.
    retried = {}
    for request in received:
        if request.path == "/retry-after":
            retried.setdefault(request.webhook_id, []).append(request.at)
    assert min(times[1] - times[0] for times in retried.values()) >= 2
    # Stored bodies respect the cap, and no attempt outlived the total timeout.
    cap = DEFAULTS["MAX_RESPONSE_BYTES"]
    longest_body = max(len(body.encode()) for body in Attempt.objects.values_list("response_body", flat=True))
    assert longest_body <= cap
    assert Attempt.objects.filter(delivery__webhook=webhooks["/huge"], response_truncated=True).count() == count
    slowest = Attempt.objects.aggregate(most=Max("duration_ms"))["most"]
    sends = Counter((r.path, r.webhook_id) for r in received if r.path in webhooks)
    figures.update(
        events=count,
        endpoints=len(webhooks),
        deliveries=count * len(webhooks),
        statuses=dict(by_path),
        most_sends_per_delivery=max(sends.values()),
        healthy_endpoint_seconds=round(ok_seconds, 1),
        drain_seconds=round(drained - started, 1),
        slowest_attempt_ms=slowest,
        longest_stored_body=longest_body,
        rss_mib_baseline=round(memory["baseline"] / 2**20, 1),
        rss_mib_peak=round(memory["peak"] / 2**20, 1),
    )
    assert slowest <= (settings["TOTAL_TIMEOUT"] + 2) * 1000  # the cut, plus scheduling on a busy machine
    assert max(sends.values()) <= settings["MAX_ATTEMPTS"], "a delivery was sent more often than its schedule allows"
    assert memory["peak"] - memory["baseline"] < 64 * 2**20
    assert delivery_log_problems() == []
    assert worker.process.poll() is None
