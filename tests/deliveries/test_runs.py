"""A worker's run in-process: it fans out what waits, claims what is due, and hands on only when busy."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import events
from deliveries import heartbeat, runs, wakeup
from deliveries.models import Attempt, Delivery
from events.models import Event
from tests.support.overrides import hookline
from tests.support.receiver import always

pytestmark = pytest.mark.django_db


class FakeFlag:
    """The shared wake-up flag, in memory: records raises and lowers."""

    def __init__(self, raised=True):
        self.raised, self.calls = raised, []

    def raise_(self):
        self.calls.append("raise")
        was_down, self.raised = not self.raised, True
        return was_down

    def lower(self):
        self.calls.append("lower")
        self.raised = False
        return True


@pytest.fixture
def published(monkeypatch):
    """Wake-ups the run publishes (countdowns included), instead of sending them to a broker."""
    sent = []
    monkeypatch.setattr(wakeup, "publish", lambda countdown=None: sent.append(countdown))
    return sent


@pytest.fixture
def flag(monkeypatch):
    fake = FakeFlag()
    monkeypatch.setattr(wakeup, "flag", lambda: fake)
    return fake


def emit_committed(key, n, organisation):
    return [events.emit(key, {"n": i}, organisation=organisation) for i in range(n)]


def test_one_run_fans_out_and_sends_everything_that_waits(
    receiver, make_webhook, event_type, organisation, published, flag
):
    # given: 30 events waiting, as 30 separate commits would leave them, and no message naming them
    event_type("order.created")
    _webhook, _ = make_webhook(receiver.on("/r", always(200)))
    emitted = emit_committed("order.created", 30, organisation)
    # when: one wake-up's run
    with hookline(MAX_IN_FLIGHT_PER_ENDPOINT=30):
        result = runs.run()
    # then: all 30 arrived, were logged, and no further message was needed
    assert result.deliveries_sent == 30 and result.events_fanned_out == 30
    assert sorted(r.webhook_id for r in receiver.at("/r")) == sorted(e.id for e in emitted)
    assert Delivery.objects.filter(status="succeeded").count() == Attempt.objects.count() == 30
    assert published == []
    # the run lowered the flag, looked once more, and found nothing
    assert flag.calls == ["lower"] and not flag.raised


def test_a_full_batch_wakes_another_worker_at_once(receiver, make_webhook, event_type, organisation, published, flag):
    event_type("order.created")
    make_webhook(receiver.on("/r", always(200)))
    emit_committed("order.created", 12, organisation)
    with hookline(DELIVERY_BATCH_SIZE=5):
        result = runs.run()
    assert result.deliveries_sent == 12
    assert published.count(None) >= 2  # batches of 5, 5 (full: another worker is woken), then 2


def test_deliveries_from_fan_out_come_back_claimed_without_a_second_claim(
    make_webhook, event_type, organisation, receiver
):
    event_type("order.created")
    make_webhook(receiver.on("/r", always(200)))
    emit_committed("order.created", 3, organisation)
    now = timezone.now()
    fanned = runs.fanout.fan_out_waiting(limit=10, claim_limit=10, token="t0ken", lease=now + timedelta(seconds=60))
    assert fanned.events == 3 and len(fanned.claimed) == 3 and not fanned.more
    assert {d.claim_token for d in Delivery.objects.all()} == {"t0ken"}
    assert all(d.event.payload and d.webhook.url for d in fanned.claimed)  # attached: nothing to re-read


def test_claim_due_takes_a_lease_with_one_statement(make_webhook, event_type, organisation, receiver):
    event_type("order.created")
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    now = timezone.now()
    event = Event.objects.create(
        type="order.created", payload={}, organisation=organisation, created_at=now, dispatched_at=now
    )
    Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now)
    with CaptureQueriesContext(connection) as queries:
        claimed = runs.delivering.claim_due(now, 10, token="abc")
    assert [d.claim_token for d in claimed] == ["abc"] and claimed[0].claimed_until > now
    # one UPDATE … RETURNING for the deliveries (no re-select), then their events and endpoints
    touching_deliveries = [q["sql"] for q in queries.captured_queries if "deliveries_delivery" in q["sql"]]
    assert len(touching_deliveries) == 1 and touching_deliveries[0].startswith("UPDATE")
    assert len(queries.captured_queries) == 3
    # a second claimer gets nothing: the lease holds
    assert runs.delivering.claim_due(now, 10) == []


def test_claim_due_returns_the_oldest_due_first_then_event_order(make_webhook, event_type, organisation, receiver):
    # given: rows whose ids run against their due times (RETURNING comes in the plan's order, not the claim's)
    event_type("order.created")
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    now = timezone.now()
    due = [
        now - timedelta(seconds=1),
        now - timedelta(seconds=2),
        now - timedelta(seconds=3),
        now - timedelta(seconds=3),
    ]
    made = []
    for index, when in enumerate(due):
        event = Event.objects.create(
            type="order.created",
            payload={"n": index},
            organisation=organisation,
            created_at=now - timedelta(seconds=10 - index),
            dispatched_at=now,
        )
        made.append(Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=when))
    # when
    claimed = runs.delivering.claim_due(now, 10)
    # then: the endpoint's in-flight cap (senders.fit) keeps the first ones, so they must be the oldest due
    assert [d.id for d in claimed] == [made[2].id, made[3].id, made[1].id, made[0].id]


def test_retries_share_one_countdown_wake_up_per_tenth_of_a_second(published):
    wakeup.schedule([9.21, 9.25, 9.7, 12.0, 10_000.0])  # beyond MAX_COUNTDOWN: left to the periodic check
    assert published == [9.3, 9.7, 12.0]  # never before the due time, at most a tenth of a second after


def test_the_periodic_check_takes_stranded_events_without_any_message(
    receiver, make_webhook, event_type, organisation, published, flag
):
    # given: an event whose wake-up was lost (older than STRANDED_AFTER, still undispatched)
    event_type("order.created")
    make_webhook(receiver.on("/r", always(200)))
    [event] = emit_committed("order.created", 1, organisation)
    assert heartbeat.check() == 0  # fresh: a wake-up may still be on its way
    Event.objects.filter(id=event.id).update(created_at=timezone.now() - timedelta(seconds=10))
    # when
    sent = heartbeat.check()
    # then
    assert sent == 1 and [r.webhook_id for r in receiver.at("/r")] == [event.id]


def test_the_periodic_check_takes_overdue_retries(receiver, make_webhook, event_type, organisation, published, flag):
    # given: a retry due an hour ago (beyond MAX_COUNTDOWN it had no countdown message)
    event_type("order.created")
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    now = timezone.now()
    event = Event.objects.create(
        type="order.created", payload={}, organisation=organisation, created_at=now, dispatched_at=now
    )
    Delivery.objects.create(
        event=event, webhook=webhook, created_at=now, attempts=5, next_attempt_at=now - timedelta(hours=1)
    )
    # when / then
    assert heartbeat.check() == 1
    assert Delivery.objects.get().status == "succeeded"
