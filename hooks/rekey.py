"""Key rotation for secrets at rest: re-encrypt every endpoint's secrets and Basic-auth password under a new key."""

from __future__ import annotations

from django.db import transaction

from . import crypto
from .models import Webhook

ENCRYPTED_FIELDS = (
    "secret_encrypted",
    "previous_secret_encrypted",
    "auth_password_encrypted",
    "shared_secret_value_encrypted",
    "signing_key_encrypted",
    "body_token_encrypted",
    "previous_body_token_encrypted",
)


def reencrypt_secrets(old_key: str, new_key: str | None = None) -> int:
    """Re-encrypt all stored secrets from ``old_key`` to ``new_key`` (default: the current key); returns
    how many endpoints changed. All or nothing: one transaction, rows locked, and any value that neither
    key decrypts aborts the run with ValueError before anything is written."""
    new_key = new_key or crypto.key_material()
    with transaction.atomic():
        webhooks = list(Webhook.objects.select_for_update().order_by("pk").only("pk", *ENCRYPTED_FIELDS))
        changed = []
        for webhook in webhooks:
            before = [getattr(webhook, name) for name in ENCRYPTED_FIELDS]
            for name, token in zip(ENCRYPTED_FIELDS, before, strict=True):
                try:
                    setattr(webhook, name, crypto.reencrypt(token, old_key, new_key))
                except ValueError as exc:
                    raise ValueError(f"Endpoint {webhook.pk}, {name}: {exc}; nothing was changed.") from None
            if [getattr(webhook, name) for name in ENCRYPTED_FIELDS] != before:
                changed.append(webhook)
        Webhook.objects.bulk_update(changed, ENCRYPTED_FIELDS, batch_size=500)
    crypto._decrypt.cache_clear()  # values decrypted under the old key must not be served from the cache
    return len(changed)
