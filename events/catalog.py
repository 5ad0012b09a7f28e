"""The event-type catalog: declarations in code, their sync to EventType rows, and a cached lookup."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.signals import post_delete, post_save

from hookline import limits
from hookline.conf import hookline_settings

# A transformer turns (key, payload) into what an older payload version expects, or None to skip.
Transformer = Callable[[str, dict[str, Any]], "tuple[str, Any] | None"]


@dataclass(frozen=True)
class EventTypeSpec:
    key: str
    description: str = ""
    schema: dict[str, Any] | None = None
    accepts_subkeys: bool = False
    deprecated: bool = False
    versions: dict[str, Transformer] = field(default_factory=dict)


_declared: dict[str, EventTypeSpec] = {}


def register(
    key: str,
    *,
    description: str = "",
    schema: dict[str, Any] | None = None,
    accepts_subkeys: bool = False,
    deprecated: bool = False,
    versions: dict[str, Transformer] | None = None,
) -> EventTypeSpec:
    """Declare an event type in code; ``migrate`` writes it to the catalog table."""
    spec = EventTypeSpec(key, description, schema, accepts_subkeys, deprecated, dict(versions or {}))
    _declared[key] = spec
    return spec


def unregister(key: str) -> None:
    """Forget a declaration (tests that register example types clean up with this)."""
    _declared.pop(key, None)


def declared() -> dict[str, EventTypeSpec]:
    return dict(_declared)


def transformer_for(key: str, version: str) -> Transformer | None:
    """The transformer registered for this key's type and payload version, if any."""
    spec = _declared.get(key) or _declared.get(key.rpartition(".")[0])
    return spec.versions.get(version) if spec and version else None


def check_schema(schema: dict[str, Any] | None) -> None:
    """Raise ValueError unless ``schema`` is empty or a valid JSON Schema (a bad one would break every emit of its
    type)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema in (None, {}):
        return
    if not isinstance(schema, dict):
        raise ValueError("A JSON Schema must be an object.")
    limits.check_json(schema, where="schema")  # a LimitExceeded is a ValueError: depth, NUL, lone surrogates
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        raise ValueError(f"Not a valid JSON Schema at {where}: {exc.message}") from None


def sync_declared(**kwargs: Any) -> None:
    """post_migrate handler: create or update the EventType rows declared in code."""
    from .models import EventType

    for spec in _declared.values():
        EventType.objects.update_or_create(
            key=spec.key,
            defaults={
                "description": spec.description,
                "schema": spec.schema,
                "accepts_subkeys": spec.accepts_subkeys,
                "deprecated": spec.deprecated,
                "declared_in_code": True,
            },
        )
    invalidate()


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    schema: dict[str, Any] | None
    accepts_subkeys: bool
    validator: Any = None


class _Cache:
    """The catalog in memory: emit() must not pay a query per call. Refreshed on TTL or a miss."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, CatalogEntry] | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        self._entries = None

    def _load(self) -> dict[str, CatalogEntry]:
        from jsonschema import Draft202012Validator

        from .models import EventType

        entries = {}
        for key, schema, subkeys in EventType.objects.values_list("key", "schema", "accepts_subkeys"):
            validator = Draft202012Validator(schema) if schema else None
            entries[key] = CatalogEntry(key, schema, subkeys, validator)
        with self._lock:
            self._entries, self._loaded_at = entries, time.monotonic()
        return entries

    def _current(self, *, fresh: bool = False) -> dict[str, CatalogEntry]:
        entries = self._entries
        if fresh or entries is None or time.monotonic() - self._loaded_at > hookline_settings.CATALOG_TTL:
            entries = self._load()
        return entries

    def lookup(self, key: str) -> CatalogEntry | None:
        entry = _find(self._current(), key)
        if entry is None:  # maybe created moments ago in another process
            entry = _find(self._current(fresh=True), key)
        return entry


def _find(entries: dict[str, CatalogEntry], key: str) -> CatalogEntry | None:
    if key in entries:
        return entries[key]
    parent, dot, subkey = key.rpartition(".")
    entry = entries.get(parent) if dot and subkey else None
    return entry if entry and entry.accepts_subkeys else None


_cache = _Cache()
lookup = _cache.lookup
invalidate = _cache.invalidate


def _on_change(sender: Any, **kwargs: Any) -> None:
    invalidate()


def connect_signals() -> None:
    from .models import EventType

    post_save.connect(_on_change, sender=EventType, dispatch_uid="hookline_catalog_save")
    post_delete.connect(_on_change, sender=EventType, dispatch_uid="hookline_catalog_delete")
