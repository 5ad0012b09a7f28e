"""Encryption at rest for endpoint secrets and Basic-auth passwords (Fernet, key derived by HKDF)."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from hookline.conf import hookline_settings


@lru_cache(maxsize=4)
def _fernet(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hookline", info=b"endpoint-secrets").derive(
        material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def key_material() -> str:
    """What the current key is derived from: HOOKLINE["ENCRYPTION_KEY"], or SECRET_KEY when that is empty."""
    material: str = hookline_settings.ENCRYPTION_KEY or settings.SECRET_KEY
    return material


def _current() -> Fernet:
    return _fernet(key_material())


def reencrypt(token: str, old_material: str, new_material: str) -> str:
    """A stored value encrypted under ``old_material``, encrypted again under ``new_material``.

    A value already readable with the new key is returned as it is (a second run changes nothing);
    one that neither key opens raises ValueError.
    """
    if not token:
        return ""
    try:
        plaintext = _fernet(old_material).decrypt(token.encode())
    except InvalidToken:
        try:
            _fernet(new_material).decrypt(token.encode())
        except InvalidToken:
            raise ValueError("neither the old nor the new key decrypts it") from None
        return token
    return _fernet(new_material).encrypt(plaintext).decode()


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode() if plaintext else ""


@lru_cache(maxsize=4096)
def _decrypt(material: str, token: str) -> str:
    return _fernet(material).decrypt(token.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a stored value; cached, since every delivery needs its endpoint's secret."""
    if not token:
        return ""
    try:
        return _decrypt(key_material(), token)
    except InvalidToken as exc:
        raise ValueError(
            "Cannot decrypt a stored secret: was HOOKLINE['ENCRYPTION_KEY'] or SECRET_KEY changed?"
        ) from exc
