"""Signatures (Standard Webhooks ``v1``/``v1a``, GitHub's X-Hub-Signature-256), endpoint secrets and body tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SECRET_PREFIX = "whsec_"
SIGNING_KEY_PREFIX, PUBLIC_KEY_PREFIX = "whsk_", "whpk_"
BODY_TOKEN_PREFIX = "whtok_"


def generate_secret() -> str:
    """A new endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret is its decoded bytes; an imported raw secret is its UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    return secret.encode()


def check_imported_secret(secret: str) -> str:
    """An existing signing secret brought along when a receiver migrates: ``whsec_<base64>`` or a raw string.

    Raises ValueError saying what is wrong. Standard Webhooks keys are 24 to 64 bytes; a raw secret is used as
    its UTF-8 bytes (as GitHub-style senders do) and must be printable, without spaces, 16 to 512 characters.
    """
    secret = (secret or "").strip()
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except ValueError:
            raise ValueError("A whsec_ secret must be whsec_ followed by base64.") from None
        if not 24 <= len(key) <= 64:
            raise ValueError(f"A whsec_ secret must encode 24 to 64 bytes; this one has {len(key)}.")
        return secret
    if not 16 <= len(secret) <= 512 or not secret.isprintable() or " " in secret:
        raise ValueError("A raw secret must be 16 to 512 printable characters without spaces.")
    return secret


def generate_body_token() -> str:
    """A new body token (what a template places as {{secret.token}}): ``whtok_`` + 32 random bytes, URL-safe."""
    return BODY_TOKEN_PREFIX + _secrets.token_urlsafe(32)


def check_imported_body_token(token: str) -> str:
    """A body token the receiver already knows, brought along: 16 to 512 ASCII characters that JSON writes as they
    are (no quote, backslash, space or control character), so the token in a body is exactly the token.

    Raises ValueError saying what is wrong.
    """
    if not 16 <= len(token) <= 512 or not all(33 <= ord(ch) <= 126 and ch not in '"\\' for ch in token):
        raise ValueError(
            "A body token must be 16 to 512 printable ASCII characters without spaces, quotes or backslashes."
        )
    return token


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


def generate_keypair() -> tuple[str, str]:
    """A Standard Webhooks asymmetric pair: ``whsk_`` + base64(seed ‖ public key), ``whpk_`` + base64(public key).

    The secret key is the 64-byte form libsodium (and so most ed25519 libraries) use.
    """
    private = Ed25519PrivateKey.generate()
    seed, public = private.private_bytes_raw(), private.public_key().public_bytes_raw()
    return (
        SIGNING_KEY_PREFIX + base64.b64encode(seed + public).decode(),
        PUBLIC_KEY_PREFIX + base64.b64encode(public).decode(),
    )


def sign_asymmetric(signing_key: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One Standard Webhooks ``v1a`` signature: ed25519 over ``{id}.{timestamp}.{body}``."""
    seed = base64.b64decode(signing_key.removeprefix(SIGNING_KEY_PREFIX))[:32]
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(f"{msg_id}.{timestamp}.".encode() + body)
    return "v1a," + base64.b64encode(signature).decode()
