"""Explicit targets of emit(endpoints=[…]): checked through a resolver the hooks app registers (events imports no other
app)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .exceptions import UnknownEndpoints

MAX_TARGETS = 1000  # one event, one fan-out batch: a bigger audience is a subscription
# (ids, organisation id or None) -> the ids among them that are endpoints of that tenant
Resolver = Callable[[list[int], "int | None"], Iterable[int]]
_resolver: Resolver | None = None


def set_resolver(resolver: Resolver | None) -> None:
    global _resolver
    _resolver = resolver


def check(endpoints: Any, organisation_id: int | None) -> list[int]:
    """The target ids, deduplicated and sorted; raises UnknownEndpoints naming the ids that are not the tenant's."""
    if not isinstance(endpoints, (list, tuple, set, frozenset)):
        raise UnknownEndpoints(f"endpoints must be a list of endpoint ids, not {type(endpoints).__name__}.")
    ids = []
    for value in endpoints:
        value = getattr(value, "pk", value)  # Webhook instances are welcome
        if isinstance(value, bool) or not isinstance(value, int):
            raise UnknownEndpoints(f"endpoints must be endpoint ids (integers); got {value!r}.")
        ids.append(value)
    ids = sorted(set(ids))
    if not ids:
        raise UnknownEndpoints("endpoints=[] names no endpoint: leave it out to deliver to every subscriber.")
    if len(ids) > MAX_TARGETS:
        raise UnknownEndpoints(f"At most {MAX_TARGETS} explicit endpoints per event; got {len(ids)}.")
    if _resolver is None:
        raise UnknownEndpoints("Explicit endpoints need the hooks app installed.")
    unknown = sorted(set(ids) - set(_resolver(ids, organisation_id)))
    if unknown:
        tenant = "this organisation" if organisation_id is not None else "no organisation (single-tenant)"
        raise UnknownEndpoints(f"Unknown endpoints for {tenant}: {', '.join(map(str, unknown))}.")
    return ids
