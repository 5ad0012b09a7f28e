"""The deliver loop in-process, against a real loopback receiver: claim, sign, log, decide."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook

import events
from deliveries import runs, senders
from deliveries.models import Attempt, Delivery
from events.models import Event
from hooks.models import Webhook
from tests.support.overrides import hookline
from tests.support.receiver import Reply, always, sequence
from tests.support.running import deliver
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery_to(event_type, organisation):
    """``delivery_to(webhook)`` creates an event and its pending, due delivery to that endpoint."""
    event_type("invoice.paid")

    def create(webhook, payload=None, key="invoice.paid"):
        now = timezone.now()
        event = Event.objects.create(
            type=key, payload=payload or {"invoice": 1}, organisation=organisation, created_at=now, dispatched_at=now
        )
        return Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now)

    return create


def test_a_delivery_is_signed_sent_and_logged(receiver, make_webhook, delivery_to):
    # given
    webhook, secret = make_webhook(receiver.on("/r", always(200, body=b'{"got":1}')))
    delivery = delivery_to(webhook)
    # when
    retries = deliver()
    # then
    assert retries == []
    request = receiver.at("/r")[0]
    assert StandardWebhook(secret).verify(request.body, request.headers)["data"] == {"invoice": 1}
    assert request.headers["webhook-id"] == delivery.event_id
    assert request.headers["user-agent"].startswith("Hookline/")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.claimed_until is None and delivery.completed_at is not None
    attempt = Attempt.objects.get()
    assert attempt.succeeded and attempt.response_body == '{"got":1}' and attempt.request_body == request.body.decode()
    assert attempt.request_headers["webhook-signature"] == request.headers["webhook-signature"]
    webhook.refresh_from_db()
    assert webhook.state == "valid"


def test_a_duplicate_message_sends_nothing(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    delivery_to(webhook)
    deliver()
    deliver()
    assert len(receiver.requests) == 1


def test_a_claimed_delivery_is_not_sent_again_until_its_lease_expires(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    delivery = delivery_to(webhook)
    Delivery.objects.filter(id=delivery.id).update(claimed_until=timezone.now() + timedelta(minutes=1), claim_token="x")
    assert deliver() == [] and receiver.requests == []
    Delivery.objects.filter(id=delivery.id).update(claimed_until=timezone.now() - timedelta(seconds=1))
    deliver()
    assert len(receiver.requests) == 1


def test_a_delivery_not_yet_due_is_left_alone(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    delivery = delivery_to(webhook)
    Delivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert deliver() == [] and receiver.requests == []


def test_a_failure_schedules_a_retry_and_logs_it(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", always(503, headers={"Retry-After": "30"})))
    delivery = delivery_to(webhook)
    with hookline(RETRY_BASE_DELAY=1, RETRY_JITTER=0):
        [scheduled] = deliver()
    assert scheduled.delivery_id == delivery.id and scheduled.delay == 30
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 503
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)
    attempt = Attempt.objects.get()
    assert not attempt.succeeded and attempt.next_retry_at == delivery.next_attempt_at


def test_the_last_failure_fails_the_delivery_and_invalidates_the_endpoint(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", always(500)))
    operations, _ = make_webhook(receiver.on("/ops", always(200)), event_types=["hookline.endpoint.invalid"])
    delivery = delivery_to(webhook)
    Delivery.objects.filter(id=delivery.id).update(attempts=2)
    with hookline(MAX_ATTEMPTS=3):
        assert deliver() == []
    delivery.refresh_from_db()
    webhook.refresh_from_db()
    assert delivery.status == "failed" and webhook.state == "invalid"
    notice = Event.objects.get(type="hookline.endpoint.invalid")
    assert notice.payload["webhook"] == webhook.id and notice.organisation_id == webhook.organisation_id
    assert notice.target_endpoints == [operations.id] and notice.payload["last_error"] == "HTTP 500"


def test_410_gone_deactivates_the_endpoint_at_once(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", always(410)))
    delivery = delivery_to(webhook)
    assert deliver() == []
    webhook.refresh_from_db()
    assert webhook.state == "deactivated"
    assert Delivery.objects.get(id=delivery.id).status == "failed"


@pytest.mark.parametrize("state, status", [("invalid", "failed"), ("deactivated", "cancelled")])
def test_deliveries_to_non_receiving_endpoints_are_closed_unsent(receiver, make_webhook, delivery_to, state, status):
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    delivery = delivery_to(webhook)
    Webhook.objects.filter(id=webhook.id).update(state=state)
    deliver()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == status and "endpoint is" in delivery.last_error


# The worker's own recorder thread writes while the test reads: a real database (SQLite's shared in-memory
# test database answers a concurrent reader "database table is locked").
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_batch_is_sent_concurrently_and_each_delivery_recorded_when_its_request_ends(
    receiver, make_webhook, delivery_to
):
    # given: receivers that note how many requests are in flight at once, one of them slow
    in_flight, peak, lock = [0], [0], threading.Lock()

    def answer_after(seconds):
        def reply(request, count):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(seconds)
            with lock:
                in_flight[0] -= 1
            return Reply(200)

        return reply

    hooks = [make_webhook(receiver.on(f"/r{i}", answer_after(0.2)))[0] for i in range(9)]
    slow = make_webhook(receiver.on("/slow", answer_after(4.0)))[0]
    ids = [delivery_to(webhook).id for webhook in [*hooks, slow]]
    senders.install(None)  # the worker's own sender pool and recorder thread
    try:
        # when: one run hands them over and returns at once
        started = time.monotonic()
        runs.run()
        handed_over = time.monotonic() - started
        # then: the fast ones are recorded while the slow one is still in flight
        wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == 9, timeout=3)
        assert Delivery.objects.get(id=ids[-1]).status == "pending"
        assert senders.senders().drain(8)
    finally:
        senders.install(None)
    assert handed_over < 0.5
    assert Delivery.objects.filter(status="succeeded").count() == 10
    assert peak[0] > 1  # side by side, not one after another


def test_the_log_masks_credentials_and_shared_secrets(receiver, make_webhook, delivery_to):
    url = receiver.on("/r", always(200)).replace("http://", "http://alice:s3cret-pw@")
    webhook, secret = make_webhook(url, shared_secret_header="X-OBC-Secret", headers={"X-Api-Token": "tok"})
    delivery_to(webhook)
    deliver()
    got = receiver.at("/r")[0].headers
    assert got["x-obc-secret"] == secret and got["authorization"].startswith("Basic ")
    attempt = Attempt.objects.get()
    assert attempt.request_url.startswith("http://alice:***@127.0.0.1")
    assert attempt.request_headers["X-OBC-Secret"] == "***" and attempt.request_headers["X-Api-Token"] == "***"
    assert "s3cret-pw" not in str(attempt.request_headers) and secret not in str(attempt.request_headers)


def test_every_retry_carries_the_same_webhook_id(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/r", sequence(500, 200)))
    delivery = delivery_to(webhook)
    deliver()
    Delivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now())
    deliver()
    assert [r.webhook_id for r in receiver.requests] == [delivery.event_id] * 2
    assert Delivery.objects.get(id=delivery.id).status == "succeeded"


def test_a_transformer_may_skip_an_event_for_an_old_payload_version(receiver, make_webhook, delivery_to):
    events.register("invoice.paid", versions={"v1": lambda key, payload: None})
    try:
        webhook, _ = make_webhook(receiver.on("/r", always(200)), payload_version="v1")
        delivery = delivery_to(webhook)
        deliver()
    finally:
        from events.catalog import _declared

        _declared.pop("invoice.paid", None)
    assert receiver.requests == []
    assert Delivery.objects.get(id=delivery.id).status == "cancelled"
