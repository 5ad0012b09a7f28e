"""What the fuzz tests share: hostile values, how many examples to run, and the figures (requests tried, 5xx found)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection
from hypothesis import strategies as st

DEFAULT_EXAMPLES = 20
REPORT = Path(__file__).resolve().parents[2] / "var" / "fuzz-report.json"

# Strings no database stores or no receiver decodes, and strings that look like what the API parses.
HOSTILE_STRINGS = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "1E400",
    "-1",
    "99999999999999999999999",
    "0.5",
    "",
    " ",
    "x" * 3000,
    "\u2028",
    "\U0001f600",
    "../..",
    "%00",
    "*",
    "data.a = 1e999",
    'data.a = "\\u0000"',
    'data.a = "\\ud800"',
    "data.a = NaN",
    "a..b = 1",
    "2026-13-45T99:99:99Z",
]
# Raw JSON text for a body value: what json.dumps cannot make (1e999) and what it escapes (NUL, surrogates).
HOSTILE_LITERALS = [
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
    '"\\udfff"',
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1E400",
    "1" * 400,
    "99999999999999999999999",
    "-1",
    "0",
    "true",
    "null",
    "[]",
    "{}",
    '"' + "x" * 5000 + '"',
    '{"\\u0000": 1}',
    '{"\\ud800": 1}',
    "[1e999]",
    '{"a": {"b": [1e999]}}',
    "[" * 70 + "]" * 70,
]
# Where a hostile literal is put inside a field's value (the literal replaces @).
SHAPES = [
    "@",
    '{"a": @}',
    "[@]",
    '{"path": @, "eq": 1}',
    '{"path": "a", "eq": @}',
    '{"path": "a", "in": [1, @]}',
    '{"and": [{"path": "a", "contains": @}]}',
    '{"body": {"shape": "template", "template": {"a": @}}}',
    '{"policy": {"attempts": @}}',
    '{"X-Header": @}',
]

_figures: Counter = Counter()


def examples() -> int:
    """Examples per operation: HOOKLINE_FUZZ_EXAMPLES, or 20 (what `make test` runs)."""
    return int(os.environ.get("HOOKLINE_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)


def deterministic() -> bool:
    """The same examples every run in `make test`; new ones in a longer `make fuzz`."""
    return examples() <= DEFAULT_EXAMPLES


@contextmanager
def counted(surface: str) -> Iterator[Callable[[int], None]]:
    """``with counted("api") as count: ...; count(response.status_code)``: requests tried, 5xx answers, and calls that
    raised before an answer (a check failing in schemathesis, a client-side error) as ``errors``."""
    seen: list[int] = []
    try:
        yield seen.append
    finally:
        _figures[f"{surface} requests"] += 1
        _figures[f"{surface} 5xx"] += bool(seen and seen[-1] >= 500)
        _figures[f"{surface} errors"] += not seen
        _write()


def _write() -> None:
    REPORT.parent.mkdir(exist_ok=True)
    try:
        report = json.loads(REPORT.read_text())
    except (OSError, ValueError):
        report = {}
    report[connection.vendor] = {**dict(_figures), "examples_per_operation": examples()}
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True))


# A URL carries UTF-8: a surrogate cannot be sent in one (its bytes arrive as U+FFFD), so none here.
URL_STRINGS = [text for text in HOSTILE_STRINGS if not any(0xD800 <= ord(c) <= 0xDFFF for c in text)]


def hostile_strings(*, path_key: bool = False) -> st.SearchStrategy[str]:
    """For query parameters and path keys (a path key is one segment: non-empty, no "/", or it is another route)."""
    strings = st.one_of(st.sampled_from(URL_STRINGS), st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
    return strings.filter(lambda text: text.strip() and "/" not in text) if path_key else strings


def hostile_value() -> st.SearchStrategy[Any]:
    """A hostile value schemathesis can send: it serialises bodies with json, which refuses NaN and Infinity (the raw
    walk in tests/console/test_api_fuzz.py sends those, and 1e999, as text)."""
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.just({"path": "a\x00", "eq": 1}),
        st.just({"a": "\ud800"}),
        st.just({"\x00": 1}),
    )


def add_hostile_hooks(schema) -> None:
    """Schemathesis cases get, half of the time, a hostile value in one body field, query parameter or path key."""

    def replace_one(container: dict | None, values: st.SearchStrategy) -> st.SearchStrategy:
        if not isinstance(container, dict) or not container:
            return st.just(container)
        return st.one_of(
            st.just(container),
            st.builds(lambda key, value: {**container, key: value}, st.sampled_from(sorted(container)), values),
        )

    @schema.hook
    def flatmap_body(context, body):
        return replace_one(body, hostile_value())

    @schema.hook
    def flatmap_query(context, query):
        return replace_one(query, hostile_strings())

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        return replace_one(path_parameters, hostile_strings(path_key=True))
