"""emit() and emit_many(): validate, write the outbox row in the caller's transaction, fan out on commit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from hookline import limits
from hookline.conf import hookline_settings

from . import catalog, outbox, targets
from .exceptions import InvalidPayload, UnknownEventType
from .models import Event, Organisation


@dataclass
class EventSpec:
    """One item of emit_many(): the same arguments as emit()."""

    key: str
    payload: dict[str, Any]
    organisation: Organisation | None = None
    idempotency_key: str | None = None
    endpoints: list[int] | None = None


def emit(
    key: str,
    payload: dict[str, Any],
    *,
    organisation: Organisation | None = None,
    idempotency_key: str | None = None,
    endpoints: list[int] | None = None,
) -> Event:
    """Store one event with the caller's transaction; its fan-out is enqueued when that commits.

    ``endpoints`` (ids of the tenant's endpoints) delivers to those only, whatever they subscribe to
    and whatever their condition says, still subject to their state; an id that is not the tenant's
    raises ``events.UnknownEndpoints``.
    """
    event = _build_event(EventSpec(key, payload, organisation, idempotency_key, endpoints), timezone.now())
    if idempotency_key:
        return _save_idempotent(event)
    event.save(force_insert=True)
    outbox.dispatch_on_commit()
    return event


def emit_many(items: Iterable[EventSpec | tuple[Any, ...] | dict[str, Any]]) -> list[Event]:
    """Emit a batch with one INSERT; items are EventSpec, (key, payload) tuples or dicts of emit()'s arguments."""
    now = timezone.now()
    specs = [_as_spec(item) for item in items]
    events = [_build_event(spec, now) for spec in specs]
    plain = [event for event in events if not event.idempotency_key]
    with transaction.atomic():
        Event.objects.bulk_create(plain)
        result = {id(event): event for event in plain}
        for event in events:
            if event.idempotency_key:
                result[id(event)] = _save_idempotent(event, dispatch=False)
    ordered = [result[id(event)] for event in events]
    if any(event.dispatched_at is None for event in ordered):
        outbox.dispatch_on_commit()
    return ordered


def validate(key: str, payload: Any, *, idempotency_key: str | None = None) -> str:
    """Check key and payload as emit() does (hookline.limits, then the type's schema); returns the serialised
    payload."""
    entry = catalog.lookup(key)
    if entry is None:
        raise UnknownEventType(f"Unknown event type {key!r}: add it to the catalog (events.register or the admin).")
    if not isinstance(payload, dict):
        raise InvalidPayload(f"The payload must be a JSON object (a dict), not {type(payload).__name__}.")
    try:
        if idempotency_key:
            limits.check_text(idempotency_key, where="idempotency_key", max_length=limits.KEY_MAX_LENGTH)
        serialised = _serialise(payload)
        limits.check_payload_size(serialised)
    except limits.LimitExceeded as exc:
        raise InvalidPayload(f"Refused: {exc}") from None
    if entry.validator is not None:
        error = next(iter(entry.validator.iter_errors(json.loads(serialised))), None)
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(root)"
            raise InvalidPayload(f"The payload does not match the schema of {entry.key!r} at {where}: {error.message}")
    return serialised


def _serialise(payload: dict[str, Any]) -> str:
    """Compact JSON within the depth and string limits; a breach raises LimitExceeded with its path."""
    try:
        serialised = json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"))
    except RecursionError:
        limits.check_json(payload)  # raises, with the path where the limit is crossed
        raise InvalidPayload("The payload is nested too deeply to serialise.") from None
    except (TypeError, ValueError) as exc:
        raise InvalidPayload(f"The payload is not JSON-serialisable: {exc}") from exc
    try:
        limits.check_json_text(serialised, where="payload")  # cheap: counts brackets only when there are many
    except limits.LimitExceeded:
        limits.check_json(payload)  # the same limit on the value itself, which can name the path
        raise
    # ensure_ascii turned NUL and surrogates into escapes; only then is the walk worth its cost.
    # NaN and ±Infinity (1e999 is one) come out bare: no JSON column or receiver takes them.
    if "\\u0000" in serialised or "\\ud" in serialised or "Infinity" in serialised or "NaN" in serialised:
        limits.check_json(payload)
    return serialised


def _as_spec(item: EventSpec | tuple[Any, ...] | dict[str, Any]) -> EventSpec:
    if isinstance(item, EventSpec):
        return item
    if isinstance(item, dict):
        return EventSpec(**item)
    return EventSpec(*item)


def _build_event(spec: EventSpec, now: datetime) -> Event:
    validate(spec.key, spec.payload, idempotency_key=spec.idempotency_key)
    chosen = None
    if spec.endpoints is not None:
        chosen = targets.check(spec.endpoints, spec.organisation.pk if spec.organisation else None)
    return Event(
        type=spec.key,
        payload=spec.payload,
        organisation=spec.organisation,
        idempotency_key=spec.idempotency_key or None,
        created_at=now,
        target_endpoints=chosen,
    )


def _save_idempotent(event: Event, *, dispatch: bool = True) -> Event:
    """Insert, unless the key was used within the window: then return that first event."""
    same_key = Event.objects.filter(organisation=event.organisation, idempotency_key=event.idempotency_key)
    window_start = event.created_at - timedelta(seconds=hookline_settings.IDEMPOTENCY_WINDOW)
    try:
        with transaction.atomic():
            # A key older than the window is released so that it may be used again.
            same_key.filter(created_at__lt=window_start).update(idempotency_key=None)
            event.save(force_insert=True)
    except IntegrityError:
        return same_key.get()
    if dispatch:
        outbox.dispatch_on_commit()
    return event
