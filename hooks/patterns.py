"""Subscription patterns: exact keys, ``*`` for everything, ``*`` as one whole segment (``user.*``)."""

from __future__ import annotations

from collections.abc import Iterable

from hookline import limits

# Hookline's own operational event types (hooks/hookline_events.py). They reach only endpoints that
# name them exactly: a customer's ``*`` endpoint must not get them, and an operations endpoint that
# names one asks for nothing else (DESIGN "Delivery semantics").
RESERVED_PREFIX = "hookline."


def is_reserved(key: str) -> bool:
    return key.startswith(RESERVED_PREFIX)


def reserved_refusal(key: str) -> str:
    """Why a client may not emit (or schedule) this key; "" when it may. Operators' endpoints trust a
    ``hookline.*`` event to come from Hookline itself: one that a client could send would forge an alert."""
    if not is_reserved(key):
        return ""
    return (
        f"{key!r} is one of Hookline's own operational event types ({RESERVED_PREFIX}*): only Hookline emits "
        "them, about the endpoints it watches. Choose a type of your own."
    )


def _segments_match(pattern: list[str], key: list[str]) -> bool:
    return len(pattern) == len(key) and all(p == "*" or p == k for p, k in zip(pattern, key, strict=True))


def matches(pattern: str, key: str) -> bool:
    """Does one pattern select this event key?

    A pattern naming a type also selects its sub-keyed events: ``HM_X_Created`` and
    ``HM_X_Created.*`` both match ``HM_X_Created.1001``. A reserved ``hookline.*`` key is selected
    only by itself: no wildcard and no parent type selects it.
    """
    if pattern == key:
        return True
    if is_reserved(key):
        return False
    if pattern == "*":
        return True
    pattern_parts, key_parts = pattern.split("."), key.split(".")
    if _segments_match(pattern_parts, key_parts):
        return True
    return len(key_parts) > 1 and _segments_match(pattern_parts, key_parts[:-1])


def matches_any(patterns: Iterable[str], key: str) -> bool:
    return any(matches(pattern, key) for pattern in patterns)


def validate_pattern(pattern: str) -> str:
    """Return the pattern stripped, or raise ValueError saying what is wrong with it."""
    pattern = pattern.strip()
    if not pattern:
        raise ValueError("An event-type pattern cannot be empty.")
    limits.check_text(
        pattern, where="an event-type pattern", max_length=limits.KEY_MAX_LENGTH
    )  # a LimitExceeded is a ValueError
    if any(not part for part in pattern.split(".")):
        raise ValueError(f"{pattern!r} has an empty segment.")
    if any("*" in part and part != "*" for part in pattern.split(".")):
        raise ValueError(f"{pattern!r}: '*' must stand for a whole segment (user.*), not part of one.")
    if is_reserved(pattern) and "*" in pattern:
        raise ValueError(
            f"{pattern!r}: Hookline's own {RESERVED_PREFIX}* event types are subscribed to by their "
            "exact names (e.g. hookline.endpoint.invalid), never through a wildcard."
        )
    return pattern
