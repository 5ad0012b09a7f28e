"""The API's JSON parser: bodies within hookline.limits (size before reading, depth before parsing), refusals as JSON
errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from hookline import limits
from hookline.conf import hookline_settings

ENVELOPE_LEVELS = 16
# An exponent of three or more digits: the only way JSON text (NaN and Infinity are refused) becomes a non-finite float.
_OVERFLOW = re.compile(r"[0-9][eE][+-]?[0-9]{3}")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class HooklineJSONParser(JSONParser):
    """DRF's JSONParser, bounded: json.loads recurses once per nesting level, so 10,000 levels would be a
    RecursionError."""

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        context = parser_context or {}
        request = context.get("request")
        try:
            limits.check_request_size(_content_length(request))  # refused before a byte is read
            raw = stream.read(hookline_settings.MAX_REQUEST_BYTES + 1) if stream is not None else b""
            limits.check_request_size(len(raw))
        except limits.LimitExceeded as exc:
            raise RequestTooLarge(str(exc)) from None
        try:
            text = raw.decode(context.get("encoding", settings.DEFAULT_CHARSET))
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is not valid UTF-8: {exc}") from None
        try:
            # Room for the request's own envelope, so that a too-deep payload inside it is refused by
            # the check that names its path (events.emit, the endpoint services).
            limits.check_json_text(text, where="body", envelope=ENVELOPE_LEVELS)
        except limits.LimitExceeded as exc:
            raise exceptions.ParseError(str(exc), code=exc.code) from None
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if _OVERFLOW.search(text):  # 1e999 parses as Infinity: no JSON column, no receiver can take it
            try:
                limits.check_numbers(data, where="body")
            except limits.LimitExceeded as exc:
                field = exc.where.removeprefix("body.") if exc.where != "body" else "non_field_errors"
                raise exceptions.ValidationError({field: [exc.reason]}, code=exc.code) from None
        return data


def _content_length(request: Any) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        return 0
