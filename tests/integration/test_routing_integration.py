"""Event routing through real workers: conditions, explicit targets, scheduled events and payload search on
PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

import events
from deliveries.models import Delivery
from events import scheduling
from events.models import Event, ScheduledEvent
from hooks.models import Webhook
from tests.support.receiver import always
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def crossing(threshold: int) -> dict:
    """Usage crossed ``threshold`` % with this event: it is at or above it now and was below it before."""
    return {"and": [{"path": "usage.percent", "gte": threshold}, {"path": "usage.previous_percent", "lt": threshold}]}


def test_thresholds_at_80_90_100_deliver_exactly_the_crossing_events(
    worker, receiver, make_webhook, event_type, organisation
):
    # given
    event_type("usage.updated")
    for threshold in (80, 90, 100):
        make_webhook(receiver.on(f"/at{threshold}", always(200)), condition=crossing(threshold))
    steps = [(0, 50), (50, 79), (79, 80), (80, 85), (85, 95), (95, 99), (99, 100), (100, 120), (10, 100)]

    # when
    with transaction.atomic():
        emitted = [
            events.emit(
                "usage.updated", {"usage": {"previous_percent": before, "percent": after}}, organisation=organisation
            )
            for before, after in steps
        ]

    # then
    expected = {
        threshold: {
            event.id for event, (before, after) in zip(emitted, steps, strict=True) if before < threshold <= after
        }
        for threshold in (80, 90, 100)
    }
    assert [len(ids) for ids in expected.values()] == [2, 2, 2]
    wait_until(lambda: len(receiver.requests) >= 6, timeout=30, message="6 threshold notifications")
    wait_until(lambda: Event.objects.undispatched().count() == 0, timeout=30, message="all fanned out")
    wait_until(lambda: not Delivery.objects.exclude(status="succeeded").exists(), timeout=30, message="all delivered")
    for threshold, ids in expected.items():
        assert {request.webhook_id for request in receiver.at(f"/at{threshold}")} == ids
    assert len(receiver.requests) == 6 and Delivery.objects.count() == 6


def test_explicit_targets_reach_only_the_named_endpoints(worker, receiver, make_webhook, event_type, organisation):
    # given
    event_type("usage.updated")
    a, _ = make_webhook(receiver.on("/a", always(200)))
    _b, _ = make_webhook(receiver.on("/b", always(200)))
    c, _ = make_webhook(receiver.on("/c", always(200)), event_types=["other.*"])
    off, _ = make_webhook(receiver.on("/off", always(200)))
    Webhook.objects.filter(id=off.id).update(state="deactivated")

    # when
    with transaction.atomic():
        targeted = events.emit(
            "usage.updated", {"percent": 90}, organisation=organisation, endpoints=[a.id, c.id, off.id]
        )
        broadcast = events.emit("usage.updated", {"percent": 10}, organisation=organisation)

    # then: the broadcast reaches a and b (c subscribes to other types); the targeted event only a and c
    wait_until(lambda: len(receiver.requests) >= 4, timeout=30, message="4 requests")
    wait_until(lambda: not Delivery.objects.exclude(status="succeeded").exists(), timeout=30, message="all delivered")
    assert {request.webhook_id for request in receiver.at("/a")} == {targeted.id, broadcast.id}
    assert {request.webhook_id for request in receiver.at("/b")} == {broadcast.id}
    assert {request.webhook_id for request in receiver.at("/c")} == {targeted.id}
    assert receiver.at("/off") == [] and len(receiver.requests) == 4


def test_a_schedule_run_at_a_frozen_clock_emits_once_with_two_beats(
    worker, receiver, make_webhook, event_type, organisation
):
    # given: a daily 04:00 Asia/Tokyo schedule, and the clock frozen just after one of its runs
    event_type("usage.report")
    make_webhook(receiver.on("/daily", always(200)))
    created = timezone.now() - timedelta(days=2)
    schedule = scheduling.save_schedule(
        ScheduledEvent(
            name="Daily usage",
            organisation=organisation,
            event_type="usage.report",
            cron="0 4 * * *",
            timezone="Asia/Tokyo",
            payload={"report": "daily"},
            missed_runs="skip",
        ),
        now=created,
    )
    frozen = schedule.next_run_at + timedelta(seconds=3)
    ready = threading.Barrier(2)
    results = []

    def beat() -> None:
        try:
            ready.wait(timeout=10)
            for _ in range(5):  # each beat checks several times at the same frozen instant
                results.append(scheduling.run_due(frozen))
        finally:
            connection.close()

    # when
    beats = [threading.Thread(target=beat) for _ in range(2)]
    for thread in beats:
        thread.start()
    for thread in beats:
        thread.join(timeout=30)

    # then
    assert sum(len(result.emitted) for result in results) == 1
    event = Event.objects.get()
    assert event.idempotency_key == f"schedule:{schedule.id}:{schedule.next_run_at.isoformat()}"
    wait_until(lambda: len(receiver.at("/daily")) >= 1, timeout=30, message="the scheduled event delivered")
    assert [request.json["data"] for request in receiver.at("/daily")] == [{"report": "daily"}]
    assert Event.objects.count() == 1


@pytest.mark.broker  # beat publishes through the broker
def test_two_real_beats_emit_a_due_run_once(start_worker, receiver, make_webhook, event_type, organisation):
    # given: a run due now, and two workers with embedded beats checking every 0.3 s
    event_type("usage.report")
    make_webhook(receiver.on("/daily", always(200)))
    schedule = scheduling.save_schedule(
        ScheduledEvent(
            name="Daily usage",
            organisation=organisation,
            event_type="usage.report",
            cron="0 4 * * *",
            timezone="Asia/Tokyo",
            payload={"report": "daily"},
        )
    )
    ScheduledEvent.objects.filter(id=schedule.id).update(next_run_at=timezone.now())

    # when
    for _ in range(2):
        start_worker(beat=True, hookline={"SCHEDULE_INTERVAL": 0.3})

    # then
    wait_until(lambda: len(receiver.at("/daily")) >= 1, timeout=30, message="the scheduled event delivered")
    wait_until(
        lambda: ScheduledEvent.objects.get().next_run_at > timezone.now(), timeout=10, message="next run planned"
    )
    time.sleep(2)  # several more checks of both beats
    assert Event.objects.count() == 1 and len(receiver.at("/daily")) == 1


def test_payload_search_finds_the_right_deliveries_on_postgresql(
    worker, receiver, make_webhook, event_type, organisation, api
):
    # given
    assert connection.vendor == "postgresql"
    event_type("notice.published")
    make_webhook(receiver.on("/notices", always(200)))
    with transaction.atomic():
        emitted = [
            events.emit(
                "notice.published", {"notice": {"id": n % 50, "title": f"Notice {n}"}}, organisation=organisation
            )
            for n in range(200)
        ]
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == 200, timeout=60, message="200 delivered")

    # when
    found = api.get("/api/deliveries/", {"payload": "data.notice.id = 42", "page_size": 500}).json()

    # then
    assert sorted(row["event"] for row in found["results"]) == sorted(
        e.id for n, e in enumerate(emitted) if n % 50 == 42
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'event_payload_path_ops'")
        assert "jsonb_path_ops" in cursor.fetchone()[0]
