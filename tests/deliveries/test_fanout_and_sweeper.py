"""Fan-out (matching, bulk creation, idempotence) and the sweeper (stranded events and deliveries)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

import events
from deliveries import fanout, sweeper
from deliveries.models import Delivery
from events.models import Event
from hooks.models import Webhook

pytestmark = pytest.mark.django_db


def test_fan_out_matches_tenant_and_patterns(event_type, organisation, other_organisation, make_webhook):
    # given
    event_type("user.created")
    all_events, _ = make_webhook("http://127.0.0.1:9/a", event_types=["*"])
    users, _ = make_webhook("http://127.0.0.1:9/b", event_types=["user.*"])
    _invoices, _ = make_webhook("http://127.0.0.1:9/c", event_types=["invoice.paid"])
    off, _ = make_webhook("http://127.0.0.1:9/d")
    Webhook.objects.filter(id=off.id).update(state="deactivated")
    _foreign, _ = make_webhook("http://127.0.0.1:9/e", organisation=other_organisation)
    untenanted, _ = make_webhook("http://127.0.0.1:9/f", organisation=None)
    event = events.emit("user.created", {"id": 1}, organisation=organisation)
    global_event = events.emit("user.created", {"id": 2})
    # when
    created = fanout.fan_out([event.id, global_event.id])
    # then
    assert set(Delivery.objects.filter(event=event).values_list("webhook_id", flat=True)) == {all_events.id, users.id}
    assert set(Delivery.objects.filter(event=global_event).values_list("webhook_id", flat=True)) == {untenanted.id}
    assert sorted(created) == sorted(Delivery.objects.values_list("id", flat=True))
    assert Event.objects.undispatched().count() == 0


def test_reserved_hookline_events_reach_only_endpoints_that_name_them(make_webhook):
    # given: Hookline's own event type (hooks/hookline_events.py), and endpoints with every kind of pattern
    everything, _ = make_webhook("http://127.0.0.1:9/a", event_types=["*"])
    _nested, _ = make_webhook("http://127.0.0.1:9/b", event_types=["*.endpoint.invalid", "*.*.*"])
    _parent, _ = make_webhook("http://127.0.0.1:9/c", event_types=["hookline.endpoint"])
    operations, _ = make_webhook("http://127.0.0.1:9/d", event_types=["*", "hookline.endpoint.invalid"])
    payload = {"webhook": 1, "name": "a", "url": "http://127.0.0.1:9/a", "state": "invalid", "organisation": None}
    event = events.emit("hookline.endpoint.invalid", payload, organisation=everything.organisation)
    # when
    fanout.fan_out([event.id])
    # then
    assert list(Delivery.objects.filter(event=event).values_list("webhook_id", flat=True)) == [operations.id]


def test_fan_out_runs_once_per_event(event_type, make_webhook):
    event_type("user.created")
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    event = events.emit("user.created", {}, organisation=webhook.organisation)
    assert len(fanout.fan_out([event.id])) == 1
    assert fanout.fan_out([event.id]) == []
    assert Delivery.objects.count() == 1


def test_fan_out_query_count_does_not_grow_with_endpoints(event_type, make_webhook, django_assert_max_num_queries):
    event_type("user.created")
    for n in range(200):
        make_webhook(f"http://127.0.0.1:9/{n}")
    emitted = events.emit_many([("user.created", {"n": n}) for n in range(5)])
    with django_assert_max_num_queries(8):
        created = fanout.fan_out([event.id for event in emitted])
    # emit_many without organisation: these endpoints belong to one, so nothing matches; emit with it
    assert created == []
    emitted = [events.emit("user.created", {}, organisation=Webhook.objects.first().organisation) for _ in range(5)]
    # SQLite caps the variables of one statement, so Django splits the bulk INSERT there
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 20):
        assert len(fanout.fan_out([event.id for event in emitted])) == 1000


def test_sweeper_fans_out_only_stranded_events(event_type, make_webhook):
    event_type("user.created")
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    old = events.emit("user.created", {}, organisation=webhook.organisation)
    fresh = events.emit("user.created", {}, organisation=webhook.organisation)
    Event.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(minutes=5))
    result = sweeper.sweep()
    assert result.events_fanned_out == 1
    assert list(Delivery.objects.values_list("event_id", flat=True)) == [old.id]
    assert Event.objects.undispatched().get().id == fresh.id
    assert result.deliveries_enqueued == list(Delivery.objects.values_list("id", flat=True))


def test_sweeper_requeues_overdue_unclaimed_deliveries_once(event_type, make_webhook):
    # given
    event_type("user.created")
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    now = timezone.now()
    long_ago = now - timedelta(minutes=10)
    deliveries = []
    for _ in range(4):
        event = events.emit("user.created", {}, organisation=webhook.organisation)
        Event.objects.filter(id=event.id).update(dispatched_at=now)
        deliveries.append(
            Delivery.objects.create(event=event, webhook=webhook, created_at=long_ago, next_attempt_at=long_ago)
        )
    overdue, leased, expired, not_due = deliveries
    Delivery.objects.filter(id=leased.id).update(claimed_until=now + timedelta(minutes=1))
    Delivery.objects.filter(id=expired.id).update(claimed_until=now - timedelta(minutes=1))
    Delivery.objects.filter(id=not_due.id).update(next_attempt_at=now + timedelta(minutes=1))
    # when
    first = sweeper.sweep()
    second = sweeper.sweep()
    # then
    assert sorted(first.deliveries_enqueued) == sorted([overdue.id, expired.id])
    assert second.deliveries_enqueued == []  # due time moved to now: not stranded again at once
