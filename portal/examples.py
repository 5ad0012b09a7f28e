"""An example payload per event type, for the catalog picker: the schema's own, or one made from the schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

MAX_DEPTH = 8  # deeper than any payload a reader takes in at a glance; also stops recursive $refs
# Strings of the formats a webhook payload carries most, so an example looks like what arrives.
FORMATS = {
    "date-time": "2026-01-31T09:30:00Z",
    "date": "2026-01-31",
    "time": "09:30:00Z",
    "email": "customer@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "3f2c8a4e-8b1d-4c2e-9f3a-5d6e7f809a1b",
    "ipv4": "192.0.2.10",
    "ipv6": "2001:db8::10",
    "hostname": "example.com",
}


class NoExample(Exception):
    """The schema asks for something this generator does not make up (a pattern, a recursion too deep)."""


def example_of(schema: Any) -> tuple[Any, bool] | None:
    """(example, from_schema): the schema's first ``examples`` entry as written (True), or a payload made
    from the schema that validates against it (False); None without a schema or when none could be made."""
    if not isinstance(schema, dict) or not schema:
        return None
    given = schema.get("examples")
    if isinstance(given, list) and given:
        return given[0], True
    try:
        made = _make(schema, schema, 0)
        valid = Draft202012Validator(schema).is_valid(made)
    except (NoExample, SchemaError, RecursionError, TypeError, ValueError):
        return None
    return (made, False) if valid else None


def _make(node: Any, root: dict, depth: int, name: str = "") -> Any:
    if depth > MAX_DEPTH:
        raise NoExample("too deep")
    if node is True or node == {}:
        return "string"
    if not isinstance(node, dict):
        raise NoExample("not a schema")
    for keyword in ("const", "default"):
        if keyword in node:
            return node[keyword]
    if isinstance(node.get("examples"), list) and node["examples"]:
        return node["examples"][0]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    if "$ref" in node:
        return _make(_resolve(node["$ref"], root), root, depth + 1)
    if node.get("allOf"):
        parts = [_make(part, root, depth + 1) for part in node["allOf"]]
        if all(isinstance(part, dict) for part in parts):
            return {key: value for part in parts for key, value in part.items()}
        return parts[0]
    for keyword in ("oneOf", "anyOf"):
        if node.get(keyword):
            return _make(node[keyword][0], root, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((one for one in kind if one != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    if kind == "string":
        return _string(node, name)
    return MAKERS.get(kind, _unknown)(node, root, depth)


def _resolve(ref: Any, root: dict) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise NoExample("only local $refs")
    target: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            raise NoExample(f"unresolvable $ref {ref}")
        target = target[part]
    return target


def _object(node: dict, root: dict, depth: int) -> dict:
    properties = node.get("properties") or {}
    return {name: _make(sub, root, depth + 1, name) for name, sub in properties.items()}


def _array(node: dict, root: dict, depth: int) -> list:
    prefix = [_make(sub, root, depth + 1) for sub in node.get("prefixItems") or []]
    items = node.get("items")
    count = max(int(node.get("minItems", 1)) - len(prefix), 0 if prefix else 1)
    if items is False or (items is None and prefix):
        return prefix
    return prefix + [_make(items if items is not None else {}, root, depth + 1) for _ in range(count)]


def _string(node: dict, name: str) -> str:
    if "pattern" in node and node.get("format") not in FORMATS:
        raise NoExample("a pattern")
    text = FORMATS.get(node.get("format") or _format_by_name(name.lower()), "string")
    low, high = int(node.get("minLength", 0)), node.get("maxLength")
    text = text.ljust(low, "x")
    return text[: int(high)] if high is not None else text


def _format_by_name(name: str) -> str:
    """A plain string property named like a URL, an address or a time still gets one (the schema checks the rest)."""
    if name.endswith(("url", "uri")):
        return "uri"
    if name.endswith("email"):
        return "email"
    if name.endswith(("_at", "_since", "_until", "timestamp")):
        return "date-time"
    return ""


def _number(node: dict, root: dict, depth: int) -> float | int:
    integer = node.get("type") == "integer" or "integer" in (node.get("type") or [])
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    value = 42 if integer else 9.9
    if low is not None and value <= low:
        value = low + 1
    if high is not None and value >= high:
        value = high - 1 if low is None or high - 1 > low else (low + high) / 2
    step = node.get("multipleOf")
    if step:
        value = step * max(round(value / step), 1)
    return int(value) if integer else value


def _unknown(node: dict, root: dict, depth: int) -> Any:
    raise NoExample(f"type {node.get('type')!r}")


MAKERS = {
    "object": _object,
    "array": _array,
    "integer": _number,
    "number": _number,
    "boolean": lambda node, root, depth: True,
    "null": lambda node, root, depth: None,
}
