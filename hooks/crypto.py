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


def _current() -> Fernet:
    return _fernet(hookline_settings.ENCRYPTION_KEY or settings.SECRET_KEY)


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
        return _decrypt(hookline_settings.ENCRYPTION_KEY or settings.SECRET_KEY, token)
    except InvalidToken as exc:
        raise ValueError("Cannot decrypt a stored secret: was HOOKLINE['ENCRYPTION_KEY'] or SECRET_KEY changed?") from exc
