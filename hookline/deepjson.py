"""JSON that never fails on what is already stored: iterative encode and decode for values nested deeper than the stack
allows.

New input is capped at MAX_JSON_DEPTH (hookline.limits), but rows written before that limit, or
by other code, may be ~900 levels deep: json's C scanner and encoder recurse once per level and
raise RecursionError inside a web request long before that. These are the fallbacks; the fast
json module stays the first choice everywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<punct>[\[\]{},:])|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<scalar>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|NaN|-?Infinity))",
    re.S,
)


def loads(text: str | bytes) -> Any:
    """json.loads, falling back to an iterative parser when the value is nested too deeply for it."""
    try:
        return json.loads(text)
    except RecursionError:
        return _loads_iteratively(text.decode() if isinstance(text, bytes) else text)


class TolerantDecoder(json.JSONDecoder):
    """A JSONField decoder that reads any stored value, however deep (JSONField calls ``decode`` on each row)."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().decode(s, *args, **kwargs)
        except RecursionError:
            return _loads_iteratively(s)


def _loads_iteratively(text: str) -> Any:
    stack: list[Any] = []  # open containers; for an object, [dict, pending key]
    result: Any = None
    done = False
    position, end = 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or done:
            raise json.JSONDecodeError("Unexpected text", text, position)
        position = match.end()
        punct, string, scalar = match.group("punct", "string", "scalar")
        if punct in ("[", "{"):
            value: Any = [] if punct == "[" else _ObjectFrame([{}, None])
            stack.append(value)
            continue
        if punct in ("]", "}"):
            if not stack:
                raise json.JSONDecodeError("Unbalanced bracket", text, match.start())
            closed = stack.pop()
            value = closed[0] if punct == "}" else closed
        elif punct in (",", ":"):
            continue  # separators carry no value; the stored text was valid JSON when written
        else:
            value = json.loads(string if string is not None else scalar)
            if stack and _is_object(stack) and stack[-1][1] is None:
                stack[-1][1] = value  # an object's key
                continue
        if not stack:
            result, done = value, True
        elif _is_object(stack):
            obj, key = stack[-1]
            obj[key] = value
            stack[-1][1] = None
        else:
            stack[-1].append(value)
    if stack or not done:
        raise json.JSONDecodeError("Unexpected end of JSON", text, position)
    return result


def _is_object(stack: list[Any]) -> bool:
    # Objects are pushed as a [dict, key] pair: a marker type keeps them apart from arrays.
    return isinstance(stack[-1], _ObjectFrame)


class _ObjectFrame(list[Any]):
    """[dict, pending key] while an object is being read."""


def dumps(value: Any, *, indent: int | None = None, ensure_ascii: bool = True, cls: type | None = None) -> str:
    """json.dumps, falling back to an iterative encoder when the value is nested too deeply for it."""
    try:
        return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, cls=cls)
    except RecursionError:
        return _dumps_iteratively(value, indent, ensure_ascii, cls)


def _dumps_iteratively(value: Any, indent: int | None, ensure_ascii: bool, cls: type | None) -> str:
    out: list[str] = []
    stack: list[tuple[bool, Any, int]] = [(False, value, 0)]  # (is literal text, item, level)
    while stack:
        literal, item, level = stack.pop()
        if literal:
            out.append(item)
            continue
        if isinstance(item, (dict, list, tuple)) and item:
            opening, closing = ("{", "}") if isinstance(item, dict) else ("[", "]")
            inner = "\n" + " " * (indent * (level + 1)) if indent else ""
            outer = "\n" + " " * (indent * level) if indent else ""
            entries = list(item.items()) if isinstance(item, dict) else list(enumerate(item))
            pending: list[tuple[bool, Any, int]] = [(True, opening, level)]
            for index, (key, child) in enumerate(entries):
                prefix = ("," if indent else ", ") if index else ""  # json.dumps's default separators
                prefix += inner
                if isinstance(item, dict):
                    prefix += json.dumps(str(key), ensure_ascii=ensure_ascii) + ": "
                pending += [(True, prefix, level), (False, child, level + 1)]
            pending.append((True, outer + closing, level))
            stack.extend(reversed(pending))
            continue
        try:
            out.append(json.dumps(item, ensure_ascii=ensure_ascii, cls=cls))
        except (TypeError, ValueError):
            out.append(json.dumps(str(item), ensure_ascii=ensure_ascii))
    return "".join(out)
