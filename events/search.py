"""Finding events by a payload field (``data.notice.id = 42``): one Q, answered on PostgreSQL by the payload's GIN index."""
from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import Q

MAX_PATH_LENGTH = 200


class InvalidSearch(ValueError):
    """A payload search that cannot be run; the message says why."""


def split_path(path: str) -> tuple[str, ...]:
    """``data.notice.id`` or ``notice.id`` -> ("notice", "id"): a path starts at the payload, which the body calls ``data``."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError("a path must be a non-empty string such as notice.id")
    if len(path) > MAX_PATH_LENGTH:
        raise ValueError(f"a path is at most {MAX_PATH_LENGTH} characters")
    parts = path.strip().split(".")
    if parts[0] == "data" and len(parts) > 1:
        parts = parts[1:]
    if any(not part for part in parts):
        raise ValueError(f"{path!r} has an empty segment")
    return tuple(parts)


def parse(text: str) -> tuple[tuple[str, ...], list[Any]]:
    """``path = value`` -> (path parts, the values it may equal). ``42`` matches 42 and "42"; quote a value to mean a string only."""
    path, sep, raw = (text or "").partition("=")
    if not sep:
        raise InvalidSearch("Search the payload as path = value, e.g. data.notice.id = 42.")
    try:
        parts = split_path(path)
    except ValueError as exc:
        raise InvalidSearch(str(exc)) from None
    raw = raw.strip()
    try:
        value = json.loads(raw)
    except ValueError:
        return parts, [raw]
    if isinstance(value, (dict, list)):
        raise InvalidSearch("Search for one value (a number, a string, true, false or null), not an object or a list.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parts, [value, raw]  # ids arrive as numbers from some producers and as strings from others
    return parts, [value]


def payload_q(text: str, *, prefix: str = "") -> Q:
    """The rows whose payload (``prefix`` + ``payload``, e.g. ``event__`` from a delivery) has this value at this path."""
    parts, values = parse(text)
    query = Q()
    for value in values:
        if connection.vendor == "postgresql":
            # payload @> '{"notice": {"id": 42}}': the containment jsonb_path_ops indexes (a key lookup would scan).
            nested: Any = value
            for part in reversed(parts):
                nested = {part: nested}
            query |= Q(**{f"{prefix}payload__contains": nested})
        else:
            query |= Q(**{f"{prefix}payload__{'__'.join(parts)}": value})
    return query
