"""Any stored value as text a page can show: pretty JSON that never raises, however deep, large or oddly encoded."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from hookline import deepjson


def pretty_json(value: Any) -> str:
    """Indented JSON for display; text that is not JSON comes back unchanged. Never raises, whatever was stored.

    Too deep for json (an old row): compact JSON, read and written without recursion (two spaces per
    level would make megabytes). Lone surrogates, which no HTML page can carry, show as their escapes.
    """
    if isinstance(value, (str, bytes)):
        try:
            value = deepjson.loads(value)
        except ValueError:
            return displayable(value.decode(errors="replace") if isinstance(value, bytes) else value)
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    except RecursionError:
        text = deepjson.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    return displayable(text)


def displayable(text: str) -> str:
    """Text a page can encode as UTF-8: a lone surrogate (only an old row can hold one) becomes its \\uXXXX escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
