"""One path syntax (events/paths.py) for conditions, payload search and body templates, with list indices everywhere."""

from __future__ import annotations

import pytest
from django.db import connection

import events
from deliveries import messages
from events import paths, search
from events.models import Event
from hooks import conditions, contracts

ORDER = {"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}], "by": {"0": "a key named 0"}}


@pytest.mark.parametrize(
    "path, parts",
    [
        ("items.0.sku", ("items", "0", "sku")),
        ("data.items.0", ("items", "0")),
        ("data", ("data",)),
        (" a.b ", ("a", "b")),
    ],
)
def test_split(path, parts):
    assert paths.split(path) == parts


@pytest.mark.parametrize(
    "path, says",
    [
        ("", "non-empty"),
        ("a..b", "empty segment"),
        ("a\x00b", "NUL"),
        ("a\ud800", "surrogate"),
        ("a" * 201, "200"),
        (3, "string"),
    ],
)
def test_split_refuses_with_the_reason(path, says):
    with pytest.raises(ValueError, match=says):
        paths.split(path)


@pytest.mark.parametrize(
    "path, found",
    [
        ("items.0.sku", "A-1"),
        ("items.1.qty", 1),
        ("items.2", paths.MISSING),
        ("items.sku", paths.MISSING),
        ("by.0", "a key named 0"),
        ("items.-1", paths.MISSING),
        ("items.٣", paths.MISSING),
    ],
)
def test_resolve_indexes_lists_with_digits_and_objects_by_key(path, found):
    assert paths.resolve(ORDER, paths.split(path)) == found


def test_conditions_index_lists():
    predicate = conditions.compile_condition(conditions.validate({"path": "items.1.sku", "eq": "B-7"}))
    assert predicate(ORDER) and not predicate({"items": [{"sku": "B-7"}]})


def test_templates_index_lists():
    # {{data.items.0}} rendered null before events/paths.py
    template = {
        "first": "{{data.items.0}}",
        "second_sku": "{{data.items.1.sku}}",
        "text": "sku {{data.items.0.sku}}",
        "missing": "{{data.items.5}}",
    }
    contracts.validate_contract({"body": {"shape": "template", "template": template}})
    filled = messages.fill(template, {"data": ORDER})
    assert filled == {"first": {"sku": "A-1", "qty": 2}, "second_sku": "B-7", "text": "sku A-1", "missing": None}


@pytest.mark.django_db
@pytest.mark.postgres  # the containment query and the key path differ between PostgreSQL and SQLite
def test_payload_search_indexes_lists(event_type):
    # given
    event_type("order.placed")
    first = events.emit("order.placed", ORDER)
    events.emit("order.placed", {"items": [{"sku": "B-7"}, {"sku": "A-1"}]})  # A-1, but not first
    keyed = events.emit("order.placed", {"items": {"0": {"sku": "A-1"}}})  # an object whose key is "0"

    def found(text: str) -> set[str]:
        return set(Event.objects.filter(search.payload_q(text)).values_list("id", flat=True))

    # when / then (SQLite's JSON paths read a digit as a list index only: an object's key "0" is PostgreSQL's extra)
    assert found("data.items.0.sku = A-1") == (
        {first.id, keyed.id} if connection.vendor == "postgresql" else {first.id}
    )
    assert found('items.1.sku = "B-7"') == {first.id}
    assert found("items.1.qty = 1") == {first.id}
    assert found("by.0 = a key named 0") == ({first.id} if connection.vendor == "postgresql" else set())


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_path_segment_named_like_a_lookup_is_a_key(event_type):
    event_type("odd.keys")
    odd = events.emit("odd.keys", {"contains": {"exact": 1}, "a__b": 2})
    assert list(Event.objects.filter(search.payload_q("contains.exact = 1")).values_list("id", flat=True)) == [odd.id]
    assert list(Event.objects.filter(search.payload_q("a__b = 2")).values_list("id", flat=True)) == [odd.id]
