"""Token validation: tells a receiver that cannot compute HMACs whether Hookline sent what it got."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from .models import Attempt


@dataclass(frozen=True)
class TokenCheck:
    valid: bool
    webhook_id: int | None = None
    event_type: str = ""


def validate_token(msg_id: str, *, signature: str = "", token: str = "", deliveries=None) -> TokenCheck:
    """Did Hookline send ``msg_id`` with this ``webhook-signature`` (or this shared-secret token)?

    ``deliveries`` narrows the search (e.g. to the caller's organisations).
    """
    if not msg_id or not (signature or token):
        return TokenCheck(False)
    # A batch's webhook-id is its batch id (deliveries/batching.py), an event's is the event id.
    sent_as = {"delivery__batch_id": msg_id} if msg_id.startswith("batch_") else {"delivery__event_id": msg_id}
    attempts = Attempt.objects.filter(**sent_as).select_related("delivery__webhook", "delivery__event")
    if deliveries is not None:
        attempts = attempts.filter(delivery__in=deliveries)
    given = set(signature.split())
    for attempt in attempts.order_by("-number")[:100]:
        webhook = attempt.delivery.webhook
        if given:
            sent = attempt.request_headers.get("webhook-signature", "").split()
            if any(hmac.compare_digest(a, b) for a in given for b in sent):
                return TokenCheck(True, webhook.id, attempt.delivery.event.type)
        if token and webhook.delivery_contract.signature.shared_secret_header:
            sent_values = [webhook.shared_secret_value] if webhook.shared_secret_value_encrypted \
                else webhook.signing_secrets()
            if any(hmac.compare_digest(token, value) for value in sent_values):
                return TokenCheck(True, webhook.id, attempt.delivery.event.type)
    return TokenCheck(False)
