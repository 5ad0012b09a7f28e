"""Contact addresses for operational alerts: a comma-separated list of emails, validated and split."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_LENGTH = 500  # the column; about ten addresses


def split(value: str) -> list[str]:
    """The addresses in a stored list, in order, without blanks."""
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


def validate(value: str) -> None:
    """A form's or serializer's check: every comma-separated part must be an email address."""
    if len(value or "") > MAX_LENGTH:
        raise ValidationError(f"At most {MAX_LENGTH} characters of addresses.", code="max_length")
    for address in split(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an email address.", code="invalid_email") from None


def merged(*lists: str) -> list[str]:
    """The addresses of several lists (an endpoint's and its organisation's), each once, case-insensitively."""
    seen: dict[str, str] = {}
    for value in lists:
        for address in split(value):
            seen.setdefault(address.lower(), address)
    return list(seen.values())


def joined(addresses: Iterable[str]) -> str:
    return ", ".join(addresses)
