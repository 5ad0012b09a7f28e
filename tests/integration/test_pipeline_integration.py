"""The whole pipeline against real PostgreSQL, Redis, `celery worker` processes and loopback receivers."""

from __future__ import annotations

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook as StandardWebhook

import events
from deliveries.models import Attempt, Delivery, Pulse
from events import outbox
from events.models import Event
from hooks.models import Webhook
from tests.support.broker import celery_broker
from tests.support.receiver import always, sequence
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {"RETRY_BASE_DELAY": 0.2, "RETRY_MAX_DELAY": 1, "RETRY_JITTER": 0}


def test_200_events_reach_3_endpoints_signed_and_logged(worker, receiver, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    endpoints = [make_webhook(receiver.on(f"/r{i}", always(200))) for i in range(3)]

    # when
    with transaction.atomic():
        sent = [
            events.emit("invoice.paid", {"invoice": n}, organisation=endpoints[0][0].organisation) for n in range(200)
        ]

    # then
    wait_until(lambda: len(receiver.requests) >= 600, timeout=60, message="600 requests")
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == 600, timeout=30, message="600 logged")
    for index, (_webhook, secret) in enumerate(endpoints):
        got = receiver.at(f"/r{index}")
        assert sorted(r.webhook_id for r in got) == sorted(e.id for e in sent)
        verifier = StandardWebhook(secret)
        for request in got:
            assert verifier.verify(request.body, request.headers)["type"] == "invoice.paid"
    assert Attempt.objects.filter(succeeded=True).count() == 600
    assert set(Webhook.objects.values_list("state", flat=True)) == {"valid"}


def test_fails_twice_then_succeeds_with_one_webhook_id(start_worker, receiver, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/flaky", sequence(500, 503, 200)))
    start_worker(hookline=FAST_RETRIES)

    # when
    with transaction.atomic():
        event = events.emit("invoice.paid", {"invoice": 1}, organisation=webhook.organisation)

    # then
    wait_until(lambda: Delivery.objects.filter(status="succeeded").exists(), timeout=30, message="success")
    got = receiver.at("/flaky")
    assert len(got) == 3
    assert {r.webhook_id for r in got} == {event.id}
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (3, 200)
    assert list(delivery.attempt_log.values_list("number", "response_status")) == [(1, 500), (2, 503), (3, 200)]


def test_always_failing_endpoint_ends_invalid_and_stops_receiving(start_worker, receiver, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/down", always(500)), event_types=["invoice.*"])
    _watcher, _ = make_webhook(
        receiver.on("/ops", always(200)), event_types=["hookline.endpoint.invalid", "hookline.endpoint.deactivated"]
    )  # named: no wildcard selects them
    start_worker(hookline={**FAST_RETRIES, "MAX_ATTEMPTS": 4})

    # when
    with transaction.atomic():
        events.emit("invoice.paid", {"invoice": 1}, organisation=webhook.organisation)

    # then
    wait_until(lambda: Delivery.objects.filter(webhook=webhook, status="failed").exists(), timeout=30, message="failed")
    webhook.refresh_from_db()
    assert webhook.state == "invalid"
    assert len(receiver.at("/down")) == 4
    operational = wait_until(lambda: receiver.at("/ops"), timeout=30, message="hookline.endpoint.invalid")
    assert operational[0].json["type"] == "hookline.endpoint.invalid"
    assert operational[0].json["data"]["webhook"] == webhook.id

    # and an invalid endpoint receives nothing more
    with transaction.atomic():
        events.emit("invoice.paid", {"invoice": 2}, organisation=webhook.organisation)
    wait_until(lambda: Event.objects.filter(dispatched_at__isnull=True).count() == 0, timeout=30, message="fan-out")
    assert len(receiver.at("/down")) == 4
    assert not Delivery.objects.filter(webhook=webhook, event__payload__invoice=2).exists()


def test_rolled_back_transaction_sends_nothing(worker, receiver, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/r", always(200)))

    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit("invoice.paid", {"invoice": 1}, organisation=webhook.organisation)
        raise RuntimeError("the caller's request failed")
    with transaction.atomic():
        marker = events.emit("invoice.paid", {"invoice": 2}, organisation=webhook.organisation)

    # then: the committed marker arrives, and it is the only one
    wait_until(lambda: receiver.at("/r"), timeout=30, message="the marker event")
    assert [r.webhook_id for r in receiver.at("/r")] == [marker.id]
    assert Event.objects.count() == 1


def test_events_emitted_while_broker_is_down_are_delivered_without_beat(
    start_worker, receiver, make_webhook, event_type, monkeypatch
):
    # given: the web side's broker is unreachable (nothing listens on port 1); publishing inline
    # (not from the outbox's thread) so that the failed publish is seen here
    monkeypatch.setattr(outbox, "_background", False)
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/r", always(200)))

    # when
    with celery_broker("redis://127.0.0.1:1/0"), transaction.atomic():
        emitted = [events.emit("invoice.paid", {"n": n}, organisation=webhook.organisation) for n in range(20)]

    # then: nothing was enqueued, everything waits in the outbox ...
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 20
    assert outbox._broker_down_until > 0  # the publish failed (and backs off)
    # ... until a worker runs: its periodic check finds them (no beat, no wake-up message)
    start_worker(hookline={"WORKER_CHECK_INTERVAL": 0.5, "STRANDED_AFTER": 0.5})
    wait_until(lambda: len(receiver.at("/r")) >= 20, timeout=60, message="stranded deliveries")
    assert sorted(r.webhook_id for r in receiver.at("/r")) == sorted(e.id for e in emitted)


def test_a_retry_due_later_than_max_countdown_is_sent_by_a_worker_without_beat(
    start_worker, receiver, make_webhook, event_type
):
    # given: retries 3 s apart, beyond MAX_COUNTDOWN (1 s): no countdown wake-up is published for
    # them (as for a retry due in three days with the defaults), and no beat (no sweeper) runs
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/r", sequence(500, 200)))
    worker = start_worker(
        beat=False,
        hookline={
            "RETRY_BASE_DELAY": 3,
            "RETRY_MAX_DELAY": 3,
            "RETRY_JITTER": 0,
            "MAX_COUNTDOWN": 1,
            "WORKER_CHECK_INTERVAL": 0.5,
            "STRANDED_AFTER": 0.5,
        },
    )

    # when
    with transaction.atomic():
        event = events.emit("invoice.paid", {"invoice": 1}, organisation=webhook.organisation)

    # then: the worker's periodic check sends the retry soon after it is due
    wait_until(lambda: Delivery.objects.filter(status="succeeded").exists(), timeout=30, message="the retry")
    first, second = receiver.at("/r")
    assert first.webhook_id == second.webhook_id == event.id
    assert 3 - 0.1 <= second.at - first.at <= 3 + 0.5 + 0.5 + 3  # due + STRANDED_AFTER + one check + slack
    # the check logs once its run has returned, a moment after the delivery is recorded
    wait_until(lambda: "Periodic check:" in worker.log(), timeout=10, message="the periodic check sent it")
    assert not Pulse.objects.filter(job=Pulse.Job.SWEEP).exists()  # no sweeper ran
