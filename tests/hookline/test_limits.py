"""hookline.limits (each refusal names its limit and where) and hookline.deepjson (stored values too deep for json)."""

from __future__ import annotations

import json

import pytest

from hookline import deepjson, limits


def nested(depth: int, leaf=1) -> dict:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_text(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# --- strings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code, says",
    [
        ("a\x00b", "nul_character", "NUL"),
        ("a\ud800b", "invalid_unicode", "lone surrogate (\\ud800 at character 1)"),
        ("\udfff", "invalid_unicode", "lone surrogate"),
    ],
)
def test_strings_that_cannot_be_stored_or_sent_are_refused(value, code, says):
    # when
    with pytest.raises(limits.LimitExceeded) as refused:
        limits.check_string(value, where="payload.note")
    # then
    assert refused.value.code == code and refused.value.where == "payload.note"
    assert str(refused.value).startswith("payload.note: ") and says in str(refused.value)


@pytest.mark.parametrize(
    "value", ["plain", "caf\u00e9", "\U0001f600 emoji (a surrogate pair in JSON)", "\\u0000 as text"]
)
def test_valid_strings_pass(value):
    limits.check_string(value, where="x")


def test_text_length_is_limited():
    limits.check_text("x" * 200, where="name", max_length=200)
    with pytest.raises(limits.LimitExceeded, match=r"name: is 201 characters long; the limit is 200"):
        limits.check_text("x" * 201, where="name", max_length=200)


# --- JSON values ------------------------------------------------------------------------------


def test_json_deeper_than_the_limit_is_refused_with_its_path(settings):
    # given
    settings.HOOKLINE = {"MAX_JSON_DEPTH": 3}
    # when / then
    limits.check_json(nested(2), where="payload")
    with pytest.raises(limits.LimitExceeded) as refused:
        limits.check_json({"items": [{"deep": {"x": 1}}]}, where="payload")
    assert refused.value.code == "too_deep"
    assert str(refused.value) == "payload.items[0].deep: is nested deeper than 3 levels (HOOKLINE['MAX_JSON_DEPTH'])."


def test_json_walk_finds_bad_strings_in_keys_and_values_without_recursing():
    with pytest.raises(limits.LimitExceeded, match=r"payload\.list\[2\]: contains a NUL"):
        limits.check_json({"list": ["ok", 1, "x\x00"]}, where="payload")
    with pytest.raises(limits.LimitExceeded, match=r"payload \(a key\): contains a lone surrogate"):
        limits.check_json({"\ud800": 1}, where="payload")
    with pytest.raises(limits.LimitExceeded, match=r"payload\['odd key'\]: contains a NUL"):
        limits.check_json({"odd key": "\x00"}, where="payload")
    with pytest.raises(limits.LimitExceeded, match=r"too_deep|nested deeper"):
        limits.check_json(nested(100_000))  # would be a RecursionError for any recursive walk


def test_json_text_deeper_than_the_limit_is_refused_before_parsing():
    # when / then: 10,000 levels, which json.loads cannot parse, are refused by position
    with pytest.raises(limits.LimitExceeded) as refused:
        limits.check_json_text("[" * 10_000 + "]" * 10_000)
    assert refused.value.code == "too_deep" and "at character 64" in str(refused.value)
    with pytest.raises(limits.LimitExceeded):
        limits.loads(nested_text(65))
    assert limits.loads(nested_text(64)) == nested(64)


def test_brackets_inside_strings_do_not_count():
    # given: many brackets, all inside strings (escaped quotes included)
    text = json.dumps({"a": "[" * 1000, "b": '\\"{' * 500, "c": [["x"]]})
    # when / then
    assert limits.loads(text)["c"] == [["x"]]


def test_static_headers_are_limited_in_count_and_total_size(settings):
    # given
    settings.HOOKLINE = {"MAX_STATIC_HEADERS": 3, "MAX_STATIC_HEADERS_BYTES": 100}
    # when / then
    limits.check_static_headers({"X-A": "1", "X-B": "2", "X-C": "3"})
    with pytest.raises(
        limits.LimitExceeded, match=r"4 static headers; the limit \(HOOKLINE\['MAX_STATIC_HEADERS'\]\) is 3"
    ):
        limits.check_static_headers({f"X-{n}": "v" for n in range(4)})
    with pytest.raises(
        limits.LimitExceeded, match=r"take 109 bytes; the limit \(HOOKLINE\['MAX_STATIC_HEADERS_BYTES'\]\) is 100"
    ):
        limits.check_static_headers({"X-Big": "v" * 100})
    with pytest.raises(limits.LimitExceeded, match=r"headers\.X-Bad: contains a lone surrogate"):
        limits.check_static_headers({"X-Bad": "\udc00"})


def test_payload_and_request_sizes(settings):
    settings.HOOKLINE = {"MAX_PAYLOAD_BYTES": 10, "MAX_REQUEST_BYTES": 20}
    limits.check_payload_size("x" * 10)
    with pytest.raises(
        limits.LimitExceeded, match=r"payload: is 11 bytes; the limit \(HOOKLINE\['MAX_PAYLOAD_BYTES'\]\) is 10"
    ):
        limits.check_payload_size("x" * 11)
    with pytest.raises(limits.LimitExceeded, match=r"over 20 bytes \(HOOKLINE\['MAX_REQUEST_BYTES'\]\)") as refused:
        limits.check_request_size(21)
    assert refused.value.code == "request_too_large"


# --- deepjson ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -3e2, "x\\u00e9\\ud800", {"b": null, "c": [true, false]}], "d": {}, "e": []}',
        "[]",
        '"s"',
        "3",
        "[[],[{}]]",
        '{"k\\"ey": "v"}',
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_the_iterative_fallbacks_agree_with_json(text, indent):
    # when
    value = deepjson._loads_iteratively(text)
    # then
    assert value == json.loads(text)
    assert deepjson._dumps_iteratively(value, indent, True, None) == json.dumps(value, indent=indent)


def test_values_too_deep_for_json_still_load_and_dump():
    # given: deeper than the interpreter's recursion limit
    text = "[" * 50_000 + '{"k": 1}' + "]" * 50_000  # 3.13 parses 5,000 levels; 50,000 exceeds every version
    with pytest.raises(RecursionError):
        json.loads(text)
    # when
    value = deepjson.loads(text)
    # then
    assert deepjson.dumps(value) == text
    assert json.loads(nested_text(3), cls=deepjson.TolerantDecoder) == nested(3)
    assert isinstance(json.loads(text, cls=deepjson.TolerantDecoder), list)
    with pytest.raises(ValueError):
        deepjson._loads_iteratively("[1, 2")
