"""Hookline events: ``emit()`` and ``emit_many()``, the event-type catalog, and the outbox.

import events
events.emit("invoice.paid", {"invoice": 42}, organisation=org, idempotency_key="inv-42-paid")
"""

from typing import Any

from .catalog import register
from .exceptions import InvalidPayload, UnknownEndpoints, UnknownEventType

__all__ = [
    "EventSpec",
    "InvalidPayload",
    "UnknownEndpoints",
    "UnknownEventType",
    "emit",
    "emit_many",
    "register",
    "schedule_payload",
]


def __getattr__(name: str) -> Any:
    # emit() needs the models, which cannot be imported before the app registry is ready.
    if name in {"emit", "emit_many", "EventSpec", "validate"}:
        from . import emitting

        return getattr(emitting, name)
    if name == "schedule_payload":
        from . import scheduling

        return scheduling.schedule_payload
    raise AttributeError(name)
