"""Signatures: Standard Webhooks (``v1,<base64 HMAC-SHA256>``), GitHub's X-Hub-Signature-256, and secrets."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets

SECRET_PREFIX = "whsec_"


def generate_secret() -> str:
    """A new endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret is its decoded bytes."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One Standard Webhooks signature over ``{id}.{timestamp}.{body}``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per active secret, space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def github_signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: hex HMAC-SHA256 of the body, keyed with the secret string as GitHub does."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: list[str], msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """True if any signature in ``header`` was made with one of ``secrets`` (constant-time compare)."""
    expected = [sign(secret, msg_id, timestamp, body) for secret in secrets]
    return any(hmac.compare_digest(given, want) for given in header.split() for want in expected)
