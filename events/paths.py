"""One path syntax for payloads: ``notice.id``, ``items.0.sku`` — shared by conditions, payload search and body
templates.

A path is dotted. Each segment is an object key, or, on a list, a digit-only index
(``items.0`` is the first item; on an object, ``0`` is the key "0"). Conditions and search start
at the payload and allow a leading ``data.`` (the body's name for it); templates start one level
up, at ``{"id", "type", "timestamp", "data", "const"}``, so ``{{data.items.0}}`` is the first item.
"""

from __future__ import annotations

from typing import Any

from hookline import limits

MAX_PATH_LENGTH = 200
MISSING = object()  # what resolve() answers when nothing is at the path


def split(path: Any, *, strip_data: bool = True) -> tuple[str, ...]:
    """``data.notice.id`` or ``notice.id`` -> ("notice", "id"); ValueError says what is wrong with the path."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError("a path must be a non-empty string such as notice.id")
    if len(path) > MAX_PATH_LENGTH:
        raise ValueError(f"a path is at most {MAX_PATH_LENGTH} characters")
    try:
        limits.check_string(path, where="the path")
    except limits.LimitExceeded as exc:
        raise ValueError(str(exc)) from None
    parts = path.strip().split(".")
    if strip_data and parts[0] == "data" and len(parts) > 1:
        parts = parts[1:]
    if any(not part for part in parts):
        raise ValueError(f"{path!r} has an empty segment")
    return tuple(parts)


def is_index(part: str) -> bool:
    """A segment that indexes a list (ASCII digits only: ``"٣".isdigit()`` is true too)."""
    return part.isascii() and part.isdigit()


def resolve(value: Any, parts: tuple[str, ...]) -> Any:
    """The value at ``parts`` inside ``value``, or MISSING."""
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list) and is_index(part):
            index = int(part)
            value = value[index] if index < len(value) else MISSING
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value
