"""Token validation: tells a receiver that cannot compute HMACs whether Hookline sent what it got."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.db.models import QuerySet

from hooks.models import Webhook

from .models import Attempt, Delivery


@dataclass(frozen=True)
class TokenCheck:
    valid: bool
    webhook_id: int | None = None
    event_type: str = ""


def validate_token(
    msg_id: str, *, signature: str = "", token: str = "", deliveries: QuerySet[Delivery] | None = None
) -> TokenCheck:
    """Did Hookline send ``msg_id`` with this ``webhook-signature``, or with this token: an endpoint's body token
    (``{{secret.token}}``, store-notice's ``token``) or its shared-secret header?

    ``deliveries`` narrows the search (e.g. to the caller's organisations).
    """
    if not msg_id or not (signature or token):
        return TokenCheck(False)
    # A batch's webhook-id is its batch id (deliveries/batching.py), an event's is the event id.
    sent_as = {"batch_id": msg_id} if msg_id.startswith("batch_") else {"event_id": msg_id}
    scope = Delivery.objects.all() if deliveries is None else deliveries
    if signature:
        check = _signed(scope.filter(**sent_as), set(signature.split()))
        if check.valid:
            return check
    if token:
        return _carried(scope.filter(**sent_as), token)
    return TokenCheck(False)


def _signed(deliveries: QuerySet[Delivery], given: set[str]) -> TokenCheck:
    """A signature is one an attempt was sent with (it covers that attempt's timestamp and body)."""
    attempts = Attempt.objects.filter(delivery__in=deliveries).select_related("delivery__webhook", "delivery__event")
    for attempt in attempts.order_by("-number")[:100]:
        sent = attempt.request_headers.get("webhook-signature", "").split()
        if any(hmac.compare_digest(a, b) for a in given for b in sent):
            return TokenCheck(True, attempt.delivery.webhook_id, attempt.delivery.event.type)
    return TokenCheck(False)


def _carried(deliveries: QuerySet[Delivery], token: str) -> TokenCheck:
    """A token is one of the endpoint's values that its requests for this message carry. Read from the deliveries,
    not the attempts: a receiver checks while the request is still open, before its attempt is recorded."""
    sendable = deliveries.exclude(status=Delivery.Status.CANCELLED)  # a cancelled delivery was never sent
    for delivery in sendable.select_related("webhook", "event")[:100]:
        if any(hmac.compare_digest(token, value) for value in carried_tokens(delivery.webhook)):
            return TokenCheck(True, delivery.webhook_id, delivery.event.type)
    return TokenCheck(False)


def carried_tokens(webhook: Webhook) -> list[str]:
    """The values a receiver may get as a token: the body token (current, and the previous one during a rotation)
    if the body places it, and the shared-secret header's value."""
    tokens = webhook.body_tokens() if webhook.delivery_contract.body.places_token else []
    if webhook.delivery_contract.signature.shared_secret_header:
        tokens += [webhook.shared_secret_value] if webhook.shared_secret_value_encrypted else webhook.signing_secrets()
    return tokens
