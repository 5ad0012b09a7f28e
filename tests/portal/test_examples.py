"""portal.examples: an example payload made from a JSON Schema validates against it, or none is shown."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from events.catalog import declared
from portal.examples import example_of

SCHEMAS = {
    "object": {
        "type": "object",
        "required": ["invoice", "paid_at"],
        "properties": {
            "invoice": {"type": "integer", "minimum": 1000},
            "amount": {"type": "number", "exclusiveMaximum": 5, "multipleOf": 0.5},
            "paid_at": {"type": "string"},
            "status": {"enum": ["paid", "refunded"]},
            "customer": {"$ref": "#/$defs/customer"},
            "lines": {
                "type": "array",
                "minItems": 2,
                "items": {"type": "object", "properties": {"sku": {"const": "A"}}},
            },
            "note": {"type": ["null", "string"], "maxLength": 3},
        },
        "$defs": {"customer": {"allOf": [{"properties": {"id": {"type": "string", "format": "uuid"}}}]}},
    },
    "one-of": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
    "array-root": {"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
}


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_a_made_example_validates_against_its_schema(schema):
    example, from_schema = example_of(schema)

    assert not from_schema
    Draft202012Validator(schema).validate(example)


def test_the_made_example_looks_like_a_payload():
    example, _ = example_of(SCHEMAS["object"])

    assert example["paid_at"] == "2026-01-31T09:30:00Z" and example["status"] == "paid"
    assert example["lines"] == [{"sku": "A"}, {"sku": "A"}] and len(example["customer"]["id"]) == 36


def test_the_schemas_own_example_wins_as_written():
    assert example_of({"type": "object", "examples": [{"n": 1}, {"n": 2}]}) == ({"n": 1}, True)


@pytest.mark.parametrize(
    "schema",
    [
        None,
        {},
        {"type": "string", "pattern": "^[A-Z]{3}$"},  # a pattern is not guessed
        {"$ref": "https://example.com/elsewhere.json"},  # nor a remote schema
        {"$ref": "#"},  # nor a schema that only refers to itself
        {"type": "integer", "minimum": 5, "maximum": 4},  # nor an impossible one
    ],
    ids=["none", "empty", "pattern", "remote-ref", "self-ref", "impossible"],
)
def test_no_example_rather_than_a_wrong_one(schema):
    assert example_of(schema) is None


def test_every_declared_schema_gets_a_valid_example():
    for key, spec in declared().items():
        if spec.schema:
            made = example_of(spec.schema)
            assert made is not None, key
            Draft202012Validator(spec.schema).validate(made[0])
