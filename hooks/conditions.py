"""Payload conditions: a small declarative language over an event's data, validated at save, compiled for fan-out.

    {"path": "usage.percent", "gte": 80}
    {"and": [{"path": "usage.percent", "gte": 80}, {"path": "usage.previous_percent", "lt": 80}]}
    {"or": [...]}   {"not": {...}}   {"path": "customer.tier", "in": ["gold", "platinum"]}
    {"path": "tags", "contains": "vip"}   {"path": "notice.id", "exists": true}

A path is dotted, starts at the payload (a leading ``data.`` — the body's name for it — is allowed) and
indexes lists with digits (``items.0.sku``). Nothing here runs user code: a condition compiles into a
tree of closures over plain comparisons, once per fan-out batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, cast

from events import paths
from events.paths import MISSING as _MISSING
from hookline import limits

Predicate = Callable[[Any], bool]

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists")
COMBINATORS = ("and", "or", "not")
MAX_DEPTH = 12  # bounded work per event, whatever an operator stores
MAX_NODES = 200
# Bounds on what one condition may carry (each operand is scanned per event at fan-out).
MAX_CONDITION_BYTES = 16 * 1024  # the whole condition, as compact JSON
MAX_IN_ITEMS = 100  # values in one ``in`` list
MAX_OPERAND_CHARS = 1000  # one string operand (also each string of an ``in`` list)
# Compiled conditions by their stored JSON text, per process. Measured: compiling 10,000 three-part
# conditions took 0.6-1.5 s on a loaded 2-core machine (most of it the garbage collector walking the
# new closures), evaluating them 13 ms; endpoints often share a condition, and a condition rarely
# changes, so each distinct text is compiled once, not once per batch.
_compiled: dict[str, Predicate | None] = {}
COMPILED_CACHE_SIZE = 20_000
logger = logging.getLogger(__name__)


def _NOTHING(payload: Any) -> bool:
    return False


class ConditionError(ValueError):
    """A refused condition: ``where`` is the place in it (``condition.and[1].gte``), the message says why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def validate(condition: Any) -> dict[str, Any] | None:
    """Return the condition unchanged (None or {} means "every event"), or raise ConditionError naming the place."""
    if condition is None or condition == {}:
        return None
    try:  # valid Unicode, finite numbers, bounded depth: what PostgreSQL and json can store (hookline.limits)
        limits.check_json(condition, where="condition")
    except limits.LimitExceeded as exc:
        raise ConditionError(exc.where or "condition", exc.reason) from None
    size = len(json.dumps(condition, separators=(",", ":")))
    if size > MAX_CONDITION_BYTES:
        raise ConditionError("condition", f"is {size} bytes as JSON; a condition is at most {MAX_CONDITION_BYTES}")
    _Checker().check(condition, "condition", 0)
    return cast(dict[str, Any], condition)


def compile_condition(condition: dict[str, Any] | None) -> Predicate | None:
    """A predicate over a payload; None when there is no condition. The condition must have been validated."""
    if not condition:
        return None
    return _compile(condition)


def compiled(text: str | None) -> Predicate | None:
    """The predicate of a stored condition given as JSON text (None: no condition), compiled once per distinct text."""
    if text is None:
        return None
    if text not in _compiled:
        if len(_compiled) >= COMPILED_CACHE_SIZE:
            _compiled.clear()
        _compiled[text] = _compile_stored(text)
    return _compiled[text]


def _compile_stored(text: str) -> Predicate | None:
    # Checked again: a row written around the services (SQL, bulk_create) must not break everyone's fan-out.
    try:
        return compile_condition(validate(json.loads(text)))
    except (ValueError, ConditionError) as exc:
        logger.warning("An endpoint's stored condition is refused (%s); it receives no event until it is fixed", exc)
        return _NOTHING


def resolve(payload: Any, parts: tuple[str, ...]) -> Any:
    """The value at a path, or _MISSING (events.paths: the one path syntax)."""
    return paths.resolve(payload, parts)


class _Checker:
    def __init__(self) -> None:
        self.nodes = 0

    def check(self, node: Any, where: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ConditionError(where, f"a condition has at most {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ConditionError(where, f"a condition is nested at most {MAX_DEPTH} levels")
        if not isinstance(node, dict):
            raise ConditionError(where, f'expected an object such as {{"path": "a.b", "eq": 1}}, got {_kind(node)}')
        combinators = [key for key in COMBINATORS if key in node]
        if combinators:
            self._check_combinator(node, combinators, where, depth)
        else:
            _check_comparison(node, where)

    def _check_combinator(self, node: dict[str, Any], keys: list[str], where: str, depth: int) -> None:
        if len(node) != 1:
            raise ConditionError(
                where, f"'{keys[0]}' stands alone; other keys: {', '.join(sorted(set(node) - {keys[0]}))}"
            )
        key = keys[0]
        if key == "not":
            self.check(node["not"], f"{where}.not", depth + 1)
            return
        children = node[key]
        if not isinstance(children, list) or not children:
            raise ConditionError(
                f"{where}.{key}", f"'{key}' takes a non-empty list of conditions, got {_kind(children)}"
            )
        for index, child in enumerate(children):
            self.check(child, f"{where}.{key}[{index}]", depth + 1)


def _check_comparison(node: dict[str, Any], where: str) -> None:
    if "path" not in node:
        raise ConditionError(where, "needs 'path' and one of " + ", ".join(COMPARISONS) + ", or and/or/not")
    try:
        paths.split(node["path"])
    except ValueError as exc:
        raise ConditionError(f"{where}.path", str(exc)) from None
    operators = [key for key in node if key != "path"]
    unknown = [key for key in operators if key not in COMPARISONS]
    if unknown:
        raise ConditionError(
            f"{where}.{unknown[0]}", f"unknown operator {unknown[0]!r}; use one of {', '.join(COMPARISONS)}"
        )
    if len(operators) != 1:
        raise ConditionError(where, f"exactly one operator per comparison, got {len(operators)}")
    operator, operand = operators[0], node[operators[0]]
    at = f"{where}.{operator}"
    if operator in ("gt", "gte", "lt", "lte") and not (_is_number(operand) or isinstance(operand, str)):
        raise ConditionError(at, f"'{operator}' compares with a number or a string, got {_kind(operand)}")
    if operator == "in" and not isinstance(operand, list):
        raise ConditionError(at, f"'in' takes a list of values, got {_kind(operand)}")
    if operator == "in" and len(operand) > MAX_IN_ITEMS:
        raise ConditionError(at, f"'in' takes at most {MAX_IN_ITEMS} values, got {len(operand)}")
    for index, value in enumerate(operand if operator == "in" else [operand]):
        if isinstance(value, str) and len(value) > MAX_OPERAND_CHARS:
            place = f"{at}[{index}]" if operator == "in" else at
            raise ConditionError(place, f"a string operand is at most {MAX_OPERAND_CHARS} characters, got {len(value)}")
    if operator == "exists" and not isinstance(operand, bool):
        raise ConditionError(at, f"'exists' takes true or false, got {_kind(operand)}")


def _compile(node: dict[str, Any]) -> Predicate:
    if "and" in node:
        parts = [_compile(child) for child in node["and"]]
        return lambda payload: all(part(payload) for part in parts)
    if "or" in node:
        parts = [_compile(child) for child in node["or"]]
        return lambda payload: any(part(payload) for part in parts)
    if "not" in node:
        inner = _compile(node["not"])
        return lambda payload: not inner(payload)
    path = paths.split(node["path"])
    operator = next(key for key in node if key != "path")
    test = _TESTS[operator](node[operator])
    if len(path) == 1:  # the common case, one dict lookup
        key = path[0]
        return lambda payload: test(payload.get(key, _MISSING) if isinstance(payload, dict) else _MISSING)
    return lambda payload: test(resolve(payload, path))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    # JSON semantics: true is not 1, and 1 equals 1.0.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _ordered(operand: Any, compare: Callable[[Any, Any], bool]) -> Predicate:
    if _is_number(operand):
        return lambda value: _is_number(value) and compare(value, operand)
    return lambda value: isinstance(value, str) and compare(value, operand)


def _contains(operand: Any) -> Predicate:
    def test(value: Any) -> bool:
        if isinstance(value, str):
            return isinstance(operand, str) and operand in value
        if isinstance(value, list):
            return any(_same(item, operand) for item in value)
        if isinstance(value, dict):
            return isinstance(operand, str) and operand in value
        return False

    return test


_TESTS: dict[str, Callable[[Any], Predicate]] = {
    "eq": lambda operand: lambda value: value is not _MISSING and _same(value, operand),
    "ne": lambda operand: lambda value: value is _MISSING or not _same(value, operand),
    "gt": lambda operand: _ordered(operand, lambda a, b: a > b),
    "gte": lambda operand: _ordered(operand, lambda a, b: a >= b),
    "lt": lambda operand: _ordered(operand, lambda a, b: a < b),
    "lte": lambda operand: _ordered(operand, lambda a, b: a <= b),
    "in": lambda operand: lambda value: value is not _MISSING and any(_same(value, item) for item in operand),
    "contains": _contains,
    "exists": lambda operand: lambda value: (value is not _MISSING) == operand,
}


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value),
        "a number" if _is_number(value) else type(value).__name__,
    )
