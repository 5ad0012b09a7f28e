"""Endpoint and delivery operations used by the admin and the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deliveries import endpoint_actions, services
from deliveries.exceptions import EndpointNotReceiving, PendingDeliveries
from deliveries.models import Delivery
from events.models import Event
from hooks import crypto
from hooks import services as endpoints
from hooks.models import Webhook
from tests.support.receiver import always

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("deliveries.services._wake_for", lambda ids: calls.append(list(ids)))
    return calls


def _delivery(webhook, status="failed", created_at=None):
    now = timezone.now()
    event = Event.objects.create(
        type="webhook.test", payload={}, organisation=webhook.organisation, created_at=now, dispatched_at=now
    )
    return Delivery.objects.create(
        event=event, webhook=webhook, status=status, attempts=5, created_at=created_at or now, next_attempt_at=None
    )


def test_create_moves_url_credentials_to_encrypted_basic_auth(organisation):
    webhook, secret = endpoints.create_webhook(url="https://bob:pa%40ss@127.0.0.1/hook", organisation=organisation)
    assert webhook.url == "https://127.0.0.1/hook" and webhook.auth_username == "bob"
    assert webhook.auth_password == "pa@ss" and "pa@ss" not in webhook.auth_password_encrypted
    assert webhook.masked_url == "https://bob:***@127.0.0.1/hook"
    assert secret.startswith("whsec_") and webhook.secret == secret and secret not in webhook.secret_encrypted
    assert webhook.state == "new" and webhook.name == "https://127.0.0.1/hook"


def test_create_refuses_a_bad_url_with_the_reason(organisation, settings):
    settings.HOOKLINE = {**settings.HOOKLINE, "ALLOW_PRIVATE_ADDRESSES": False}
    with pytest.raises(ValidationError, match="loopback"):
        endpoints.create_webhook(url="http://127.0.0.1/hook", organisation=organisation)
    with pytest.raises(ValidationError, match="http"):
        endpoints.create_webhook(url="ftp://example.com/", organisation=organisation)
    assert not Webhook.objects.exists()


def test_update_rules(make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    Webhook.objects.filter(id=webhook.id).update(state="valid")
    webhook.refresh_from_db()
    with pytest.raises(ValidationError, match="only be set to 'new' or 'deactivated'"):
        endpoints.update_webhook(webhook, state="valid")
    with pytest.raises(ValidationError, match="cannot be overridden"):
        endpoints.update_webhook(webhook, headers={"Webhook-Signature": "forged"})
    endpoints.update_webhook(webhook, name="renamed")
    assert Webhook.objects.get(id=webhook.id).state == "valid"
    endpoints.update_webhook(webhook, url="http://127.0.0.1:9/b")
    assert Webhook.objects.get(id=webhook.id).state == "new"  # a new URL must be proven again
    endpoints.update_webhook(webhook, enabled=False)
    assert Webhook.objects.get(id=webhook.id).state == "deactivated"


def test_rotate_secret_keeps_the_old_one_signing_for_the_grace_period(make_webhook, settings):
    settings.HOOKLINE = {**settings.HOOKLINE, "SECRET_ROTATION_GRACE": 3600}
    webhook, old = make_webhook("http://127.0.0.1:9/a")
    new = endpoints.rotate_secret(webhook)
    webhook.refresh_from_db()
    assert webhook.signing_secrets() == [new, old]
    assert webhook.signing_secrets(now=timezone.now() + timedelta(hours=2)) == [new]


def test_secrets_use_the_configured_encryption_key(make_webhook, settings):
    webhook, _secret = make_webhook("http://127.0.0.1:9/a")
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": "another key"}
    crypto._decrypt.cache_clear()
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        _ = Webhook.objects.get(id=webhook.id).secret


def test_send_test_sets_the_state_from_the_answer(receiver, make_webhook):
    ok, _ = make_webhook(receiver.on("/ok", always(200)))
    down, _ = make_webhook(receiver.on("/down", always(500)))
    attempt = endpoint_actions.send_test(ok)
    assert attempt.succeeded and Webhook.objects.get(id=ok.id).state == "valid"
    assert receiver.at("/ok")[0].json["type"] == "webhook.test"
    attempt = endpoint_actions.send_test(down)
    assert attempt.response_status == 500 and Webhook.objects.get(id=down.id).state == "invalid"
    assert len(receiver.at("/down")) == 1  # a test is not retried
    assert Event.objects.filter(type="webhook.test", dispatched_at__isnull=True).count() == 0


def test_a_failed_test_invalidates_the_endpoint_and_says_so(receiver, make_webhook, operator):
    # given
    webhook, _ = make_webhook(receiver.on("/down", always(503)))
    operations, _ = make_webhook(receiver.on("/ops", always(200)), event_types=["hookline.endpoint.invalid"])

    # when
    endpoint_actions.send_test(webhook, user=operator)

    # then
    webhook.refresh_from_db()
    assert (webhook.state, webhook.state_reason, webhook.updated_by) == ("invalid", "a test failed: 503", operator)
    notice = Event.objects.get(type="hookline.endpoint.invalid")
    assert notice.payload | {"failing_since": None} == {
        "webhook": webhook.id,
        "name": webhook.name,
        "url": webhook.masked_url,
        "state": "invalid",
        "reason": "a test failed: 503",
        "organisation": webhook.organisation.slug,
        "failing_since": None,
        "failed_attempts": 0,
        "last_error": "HTTP 503",
        "last_status_code": 503,
    }
    assert notice.target_endpoints == [operations.id]
    assert notice.organisation_id == webhook.organisation_id


def test_a_passed_test_says_nothing(receiver, make_webhook):
    webhook, _ = make_webhook(receiver.on("/ok", always(204)))
    endpoint_actions.send_test(webhook)
    assert not Event.objects.filter(type__startswith="hookline.endpoint.").exists()


def test_redeliver_resets_the_budget_and_enqueues_on_commit(make_webhook, enqueued, django_capture_on_commit_callbacks):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    delivery = _delivery(webhook)
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0) and delivery.next_attempt_at is not None
    assert enqueued == [[delivery.id]]


def test_recover_requeues_failed_deliveries_since_a_time(make_webhook, enqueued, django_capture_on_commit_callbacks):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    recent = _delivery(webhook)
    _delivery(webhook, created_at=timezone.now() - timedelta(days=3))
    _delivery(webhook, status="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        count = endpoint_actions.recover(webhook, since=timezone.now() - timedelta(days=1))
    assert count == 1 and enqueued == [[recent.id]]


def test_redeliver_to_a_non_receiving_endpoint_says_to_enable_it(make_webhook, enqueued):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    delivery = _delivery(webhook)
    endpoints.disable(webhook)
    with pytest.raises(EndpointNotReceiving, match="enable"):
        services.redeliver(delivery)
    endpoints.enable(webhook)
    services.redeliver(delivery)


def test_delete_without_force_refuses_while_deliveries_are_pending(make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    _delivery(webhook, status="pending")
    with pytest.raises(PendingDeliveries):
        endpoint_actions.delete(webhook, force=False)
    endpoint_actions.delete(webhook)
    assert not Webhook.objects.exists() and not Delivery.objects.exists()
