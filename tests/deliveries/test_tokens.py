"""Tests for deliveries.tokens.validate_token: did Hookline send this webhook-id with this signature or token?"""

from __future__ import annotations

import pytest
from django.utils import timezone

from deliveries import delivering, messages
from deliveries.models import Delivery
from deliveries.tokens import validate_token
from deliveries.transport import TransportResult
from events.models import Event
from hooks import services, signing
from hooks.models import Webhook

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/in"


def sent(webhook, key="invoice.paid"):
    """Log one successful attempt of a new event to ``webhook``; returns the request as sent."""
    now = timezone.now()
    event = Event.objects.create(
        type=key, payload={"invoice": 1}, organisation=webhook.organisation, created_at=now, dispatched_at=now
    )
    delivery = Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now)
    request = messages.build_request(event, webhook, messages.envelope(event, key, event.payload))
    delivering.record([delivering.Sent(delivery, request, TransportResult(status=200))])
    return request


def test_a_signature_hookline_sent_is_valid(make_webhook):
    # given
    webhook, _ = make_webhook(URL)
    request = sent(webhook)
    # when
    check = validate_token(request.headers["webhook-id"], signature=request.headers["webhook-signature"])
    # then
    assert (check.valid, check.webhook_id, check.event_type) == (True, webhook.id, "invoice.paid")


def test_a_forged_signature_is_not(make_webhook):
    # given: signed with a secret Hookline never had
    webhook, _ = make_webhook(URL)
    request = sent(webhook)
    forged = signing.sign(
        signing.generate_secret(),
        request.headers["webhook-id"],
        int(request.headers["webhook-timestamp"]),
        request.body,
    )
    # when / then
    assert not validate_token(request.headers["webhook-id"], signature=forged).valid


def test_a_real_signature_for_another_message_is_not(make_webhook):
    webhook, _ = make_webhook(URL)
    first, second = sent(webhook), sent(webhook)
    assert not validate_token(second.headers["webhook-id"], signature=first.headers["webhook-signature"]).valid


def test_one_of_two_rotation_signatures_is_enough(make_webhook):
    # given
    webhook, _ = make_webhook(URL)
    services.rotate_secret(webhook)
    request = sent(webhook)
    new, old = request.headers["webhook-signature"].split(" ")
    # when / then
    assert validate_token(request.headers["webhook-id"], signature=old).valid
    assert validate_token(request.headers["webhook-id"], signature=new).valid


def test_the_shared_secret_token_is_valid_only_for_shared_secret_endpoints(make_webhook):
    # given
    shared, secret = make_webhook(URL, shared_secret_header="X-OBC-Secret")
    plain, plain_secret = make_webhook(URL)
    shared_msg, plain_msg = sent(shared).headers["webhook-id"], sent(plain).headers["webhook-id"]
    # when / then
    assert validate_token(shared_msg, token=secret).webhook_id == shared.id
    assert not validate_token(shared_msg, token="whsec_guess").valid
    assert not validate_token(plain_msg, token=plain_secret).valid  # its secret was never sent in clear


def test_organisation_scoping(make_webhook, other_organisation):
    # given
    webhook, secret = make_webhook(URL, shared_secret_header="X-OBC-Secret")
    request = sent(webhook)
    msg_id, signature = request.headers["webhook-id"], request.headers["webhook-signature"]
    mine = Delivery.objects.filter(webhook__organisation=webhook.organisation)
    theirs = Delivery.objects.filter(webhook__organisation=other_organisation)
    # when / then
    assert validate_token(msg_id, signature=signature, deliveries=mine).valid
    assert not validate_token(msg_id, signature=signature, deliveries=theirs).valid
    assert not validate_token(msg_id, token=secret, deliveries=theirs).valid


@pytest.mark.parametrize(
    ("msg_id", "signature", "token"), [("", "v1,x", ""), ("msg_x", "", ""), ("msg_unknown", "v1,x", "")]
)
def test_incomplete_or_unknown_input_is_not_valid(msg_id, signature, token):
    assert not validate_token(msg_id, signature=signature, token=token).valid


# --- body tokens (store-notice's validateWebhookToken) ------------------------------------------------------------


def pending(webhook, key="notice.published"):
    """A new event's delivery to ``webhook``, not sent yet (or still in flight: no attempt recorded); its msg id."""
    now = timezone.now()
    event = Event.objects.create(
        type=key, payload={"noticeId": 1}, organisation=webhook.organisation, created_at=now, dispatched_at=now
    )
    Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now)
    return event.id


def test_the_body_token_is_valid_with_the_event_id_while_the_request_is_still_open(make_webhook):
    # given: two store-notice endpoints, each with its own token; a delivery whose attempt is not recorded yet
    webhook, _ = make_webhook(URL, contract={"preset": "store-notice"})
    other, _ = make_webhook(URL, contract={"preset": "store-notice"})
    msg_id = pending(webhook)
    # when / then
    check = validate_token(msg_id, token=webhook.body_token)
    assert (check.valid, check.webhook_id, check.event_type) == (True, webhook.id, "notice.published")
    assert not validate_token(msg_id, token=other.body_token).valid  # a genuine token, but not for this message
    assert not validate_token(msg_id, token="whtok_guess").valid
    assert not validate_token(pending(other), token=webhook.body_token).valid


def test_after_a_rotation_the_previous_body_token_validates_for_the_grace_period_only(make_webhook):
    # given
    webhook, _ = make_webhook(URL, contract={"preset": "store-notice"})
    old = webhook.body_token
    msg_id = pending(webhook)
    # when
    new = services.rotate_body_token(webhook)
    # then
    assert validate_token(msg_id, token=new).valid and validate_token(msg_id, token=old).valid
    Webhook.objects.filter(pk=webhook.pk).update(previous_body_token_expires_at=timezone.now())
    assert not validate_token(msg_id, token=old).valid and validate_token(msg_id, token=new).valid


def test_a_body_token_is_valid_only_where_the_body_carries_it(make_webhook):
    # given: an imported token, then a contract whose body no longer places it
    webhook, _ = make_webhook(URL, contract={"preset": "store-notice"}, body_token="tok-5f2b9c-0123456789")
    msg_id = pending(webhook)
    assert validate_token(msg_id, token="tok-5f2b9c-0123456789").valid
    services.update_webhook(webhook, contract={})
    assert not validate_token(msg_id, token="tok-5f2b9c-0123456789").valid
