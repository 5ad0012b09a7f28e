"""Finding events by a payload field (``data.notice.id = 42``): one Q, answered on PostgreSQL by the payload's GIN
index."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import F, JSONField, Q, Value
from django.db.models.fields.json import KeyTransform

from hookline import limits

from . import paths


class InvalidSearch(ValueError):
    """A payload search that cannot be run; the message says why."""


def split_path(path: str) -> tuple[str, ...]:
    """``data.notice.id`` -> ("notice", "id"): events.paths, the syntax conditions and templates use too."""
    return paths.split(path)


def parse(text: str) -> tuple[tuple[str, ...], list[Any]]:
    """``path = value`` -> (path parts, the values it may equal). ``42`` matches 42 and "42"; quote a value to mean a
    string only.

    Values the database cannot compare (NaN, ±Infinity, 1e999, NUL, lone surrogates) are refused here.
    """
    path, sep, raw = (text or "").partition("=")
    if not sep:
        raise InvalidSearch("Search the payload as path = value, e.g. data.notice.id = 42.")
    try:
        parts = paths.split(path)
    except ValueError as exc:
        raise InvalidSearch(str(exc)) from None
    raw = raw.strip()
    try:
        limits.check_string(raw, where="the searched value")
        try:
            value = json.loads(raw)
        except ValueError:
            return parts, [raw]
        limits.check_json(value, where="the searched value")
    except limits.LimitExceeded as exc:
        raise InvalidSearch(str(exc)) from None
    if isinstance(value, (dict, list)):
        raise InvalidSearch("Search for one value (a number, a string, true, false or null), not an object or a list.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parts, [value, raw]  # ids arrive as numbers from some producers and as strings from others
    return parts, [value]


def payload_q(text: str, *, prefix: str = "") -> Q:
    """The rows whose payload (``prefix`` + ``payload``, e.g. ``event__`` from a delivery) has this value at this
    path."""
    parts, values = parse(text)
    query = Q()
    for value in values:
        if connection.vendor == "postgresql":
            # payload @> '{"notice": {"id": 42}}': the containment jsonb_path_ops indexes (a key lookup would scan).
            query |= Q(**{f"{prefix}payload__contains": _nested(parts, value, indices=False)})
            if any(paths.is_index(part) for part in parts):
                # items.0.sku: the containment with a list at each index (any item, indexed) narrows the rows,
                # the key path (that very item) decides.
                query |= Q(**{f"{prefix}payload__contains": _nested(parts, value, indices=True)}) & _at(
                    prefix, parts, value
                )
        else:
            query |= _at(prefix, parts, value)
    return query


def _nested(parts: tuple[str, ...], value: Any, *, indices: bool) -> Any:
    nested = value
    for part in reversed(parts):
        nested = [nested] if indices and paths.is_index(part) else {part: nested}
    return nested


def _at(prefix: str, parts: tuple[str, ...], value: Any) -> Q:
    """The value at exactly this path (a digit segment indexes a list), built as key transforms, so that a
    segment named like a lookup (``contains``) or holding ``__`` stays a key."""
    expression: Any = F(f"{prefix}payload")
    for part in parts:
        expression = KeyTransform(part, expression)
    return Q(expression.get_lookup("exact")(expression, Value(value, output_field=JSONField())))
