"""Input limits, defined once: JSON depth, valid strings, body and header sizes, text lengths; each refusal names the
limit and where."""

from __future__ import annotations

import argparse
import json
import math
import re
from typing import Any

from hookline.conf import hookline_settings

# Model fields size their columns with these, so a check here and the column never disagree.
NAME_MAX_LENGTH = 200
KEY_MAX_LENGTH = 200
# Descriptions are TEXT columns: this keeps an admin list page (and its search) small.
DESCRIPTION_MAX_LENGTH = 5000
HEADER_VALUE_MAX_LENGTH = 2000
# A query parameter or a path key (filters, search, ordering, ids): longer is no real query.
ARGUMENT_MAX_LENGTH = 2000


class LimitExceeded(ValueError):
    """A value breaks an input limit; ``str()`` says which limit and where (``where`` is a path in the JSON)."""

    def __init__(self, message: str, *, code: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.code = code
        self.where = where
        self.reason = message  # without the place, for answers that name the field apart


# --- strings --------------------------------------------------------------------------------
def check_string(value: str, *, where: str) -> None:
    """Refuse what no database stores and no receiver decodes: NUL (jsonb, TEXT) and lone surrogates (UTF-8)."""
    if "\x00" in value:
        raise LimitExceeded(
            "contains a NUL character (\\u0000), which cannot be stored.", code="nul_character", where=where
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LimitExceeded(
            f"contains a lone surrogate (\\u{ord(value[exc.start]):04x} at character {exc.start}): "
            "not valid Unicode, so it can be neither stored nor sent as UTF-8.",
            code="invalid_unicode",
            where=where,
        ) from None


def check_text(value: str, *, where: str, max_length: int) -> None:
    """A name, a description, a header value: valid Unicode, and at most ``max_length`` characters."""
    check_string(value, where=where)
    if len(value) > max_length:
        raise LimitExceeded(
            f"is {len(value)} characters long; the limit is {max_length}.", code="too_long", where=where
        )


def check_number(value: float, *, where: str) -> None:
    """Refuse NaN and ±Infinity (``1e999`` parses as Infinity): JSON has no such numbers and PostgreSQL's jsonb refuses
    them."""
    if not math.isfinite(value):
        raise LimitExceeded(
            f"is {value!r}, not a finite number; JSON and the database store finite numbers only.",
            code="non_finite_number",
            where=where,
        )


def check_argument(value: str, *, where: str) -> None:
    """A query parameter, a path key, a search term: valid Unicode, at most ARGUMENT_MAX_LENGTH characters."""
    check_text(value, where=where, max_length=ARGUMENT_MAX_LENGTH)


def seconds_argument(text: str) -> float:
    """An argparse ``type`` for a command's seconds: a finite number, 0 or more (``--pause nan`` made sleep() raise)."""
    try:
        value = float(text)
        check_number(value, where=text)
    except (ValueError, LimitExceeded):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds cannot be negative")
    return value


def count_argument(text: str) -> int:
    """An argparse ``type`` for a batch size: 1 or more (``--batch 0`` meant the default, -5 sliced from the end)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def text_argument(text: str) -> str:
    """An argparse ``type`` for a command's name or slug: valid Unicode, no NUL, at most NAME_MAX_LENGTH characters."""
    try:
        check_text(text, where="the argument", max_length=NAME_MAX_LENGTH)
    except LimitExceeded as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


# --- JSON values ----------------------------------------------------------------------------
def check_json(value: Any, *, where: str = "payload", max_depth: int | None = None) -> None:
    """Walk a decoded JSON value without recursion: at most MAX_JSON_DEPTH levels, every key and string valid,
    every number finite.

    The first breach raises, with its path (``payload.items[3].name``).
    """
    limit = max_depth if max_depth is not None else hookline_settings.MAX_JSON_DEPTH
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_string(item, where=path)
            continue
        if isinstance(item, float):
            check_number(item, where=path)
            continue
        if not isinstance(item, (dict, list, tuple)):
            continue
        if depth > limit:
            raise LimitExceeded(
                f"is nested deeper than {limit} levels (HOOKLINE['MAX_JSON_DEPTH']).", code="too_deep", where=path
            )
        if isinstance(item, dict):
            for key, child in item.items():
                name = key if isinstance(key, str) else str(key)
                check_string(name, where=f"{path} (a key)")
                stack.append(
                    (child, f"{path}.{name}" if _PLAIN_KEY.fullmatch(name) else f"{path}[{name!r}]", depth + 1)
                )
        else:
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))


def check_numbers(value: Any, *, where: str = "body") -> None:
    """Only the numbers of a decoded JSON value: the first non-finite one raises, with its path."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float):
            check_number(item, where=path)
        elif isinstance(item, dict):
            stack.extend(
                (child, f"{path}.{key}" if _PLAIN_KEY.fullmatch(str(key)) else f"{path}[{str(key)!r}]")
                for key, child in item.items()
            )
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


# --- JSON text ------------------------------------------------------------------------------
# A string token (so that brackets inside strings do not count) or a bracket. On any text json.loads
# accepts a prefix of, this tokenises as the parser does, so it never counts less depth than it recurses.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
# The fast path, all in C: escapes out (so \" is no quote), bytes other than quotes and brackets
# out, then every other run between quotes (the strings) out; what is left are the brackets.
_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")  # for depth, a bracket's kind does not matter


def check_json_text(text: str | bytes, *, where: str = "body", envelope: int = 0) -> None:
    """Refuse JSON text nested deeper than the limit before it is parsed (json.loads recurses once per level).

    ``envelope`` levels are allowed on top, for a request body around the value the limit is about.
    """
    limit = hookline_settings.MAX_JSON_DEPTH + envelope
    setting = "HOOKLINE['MAX_JSON_DEPTH']" + (f" + {envelope} for the request around it" if envelope else "")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") <= limit:  # the common case: it cannot be that deep
        return
    # The depth at each bracket outside strings, summed in C (a Python loop per token cost ~10x more).
    raw = text.encode("utf-8", "surrogatepass")  # UTF-8 never puts a quote or a bracket inside a character
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)
    brackets = b"".join(raw.translate(None, _NOT_STRUCTURE).split(b'"')[::2]).translate(_AS_SQUARE)
    for _ in range(limit):  # each pass removes the innermost level: passes = depth
        if not brackets:
            return
        shallower = brackets.replace(b"[]", b"")
        if shallower == brackets:
            break  # unbalanced (invalid JSON): the exact count below decides
        brackets = shallower
    if not brackets:
        return
    depth = 0  # over the limit (or unbalanced): find where, for the message
    for token in _TOKEN.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                raise LimitExceeded(
                    f"the JSON is nested deeper than {limit} levels ({setting}) at character {token.start()}.",
                    code="too_deep",
                    where=where,
                )
        elif char in "]}":
            depth -= 1


def loads(text: str | bytes, *, where: str = "body") -> Any:
    """json.loads after the depth check: what every way in that parses JSON text uses."""
    check_json_text(text, where=where)
    return json.loads(text)


# --- sizes ----------------------------------------------------------------------------------
def check_payload_size(serialised: str, *, where: str = "payload") -> None:
    size, limit = len(serialised.encode()), hookline_settings.MAX_PAYLOAD_BYTES
    if size > limit:
        raise LimitExceeded(
            f"is {size} bytes; the limit (HOOKLINE['MAX_PAYLOAD_BYTES']) is {limit}.", code="too_large", where=where
        )


def check_static_headers(headers: dict[str, str], *, where: str = "headers") -> None:
    """An endpoint's static headers: each name and value valid, at most MAX_STATIC_HEADERS of them and
    MAX_STATIC_HEADERS_BYTES in all."""
    count, limit = len(headers), hookline_settings.MAX_STATIC_HEADERS
    if count > limit:
        raise LimitExceeded(
            f"{count} static headers; the limit (HOOKLINE['MAX_STATIC_HEADERS']) is {limit}.",
            code="too_many_headers",
            where=where,
        )
    for name, value in headers.items():
        check_string(str(name), where=f"{where} (a name)")
        check_text(str(value), where=f"{where}.{name}", max_length=HEADER_VALUE_MAX_LENGTH)
    # As sent: "name: value\r\n" per header.
    size = sum(len(str(name).encode()) + len(str(value).encode()) + 4 for name, value in headers.items())
    budget = hookline_settings.MAX_STATIC_HEADERS_BYTES
    if size > budget:
        raise LimitExceeded(
            f"the static headers take {size} bytes; the limit (HOOKLINE['MAX_STATIC_HEADERS_BYTES']) is {budget}.",
            code="headers_too_large",
            where=where,
        )


def check_request_body_size(size: int, *, where: str = "request body") -> None:
    """What a delivery sends: at most MAX_REQUEST_BODY_BYTES (``size`` is the rendered body's, or a template's
    bound)."""
    limit = hookline_settings.MAX_REQUEST_BODY_BYTES
    if size > limit:
        raise LimitExceeded(
            f"is {size} bytes; the limit (HOOKLINE['MAX_REQUEST_BODY_BYTES']) is {limit}.",
            code="request_body_too_large",
            where=where,
        )


def check_request_size(length: int, *, where: str = "body") -> None:
    limit = hookline_settings.MAX_REQUEST_BYTES
    if length > limit:
        raise LimitExceeded(
            f"the request body is over {limit} bytes (HOOKLINE['MAX_REQUEST_BYTES']).",
            code="request_too_large",
            where=where,
        )
