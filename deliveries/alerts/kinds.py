"""The operational moments: their names, event types (reserved under hookline.*), JSON Schemas and signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal

import events
from hooks.hookline_events import ENDPOINT_DEACTIVATED, ENDPOINT_INVALID

from .. import signals

_ENDPOINT = {
    "webhook": {"type": "integer", "description": "The endpoint the event is about."},
    "name": {"type": "string"},
    "url": {"type": "string", "description": "Its URL, the Basic-auth password masked."},
    "state": {"type": "string", "enum": ["new", "valid", "invalid", "deactivated"]},
    "organisation": {"type": ["string", "null"], "description": "The organisation's slug."},
}
_FAILURE = {
    "failing_since": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "The episode's first failed attempt.",
    },
    "failed_attempts": {"type": "integer", "description": "Consecutive failed attempts so far."},
    "last_error": {"type": "string", "description": "The last failed attempt's error or status line."},
    "last_status_code": {"type": ["integer", "null"]},
}


@dataclass(frozen=True)
class Kind:
    """One moment: the dedupe key (``name``), its event type(s), the public signal and the email's words."""

    name: str
    event_type: str
    signal: Signal
    headline: str  # "… is failing": the email's subject and first line
    description: str
    properties: dict[str, Any]

    def event_type_for(self, payload: dict[str, Any]) -> str:
        """The event type of this payload: a disabled endpoint is hookline.endpoint.invalid or .deactivated."""
        if self is DISABLED:
            return ENDPOINT_DEACTIVATED if payload.get("state") == "deactivated" else ENDPOINT_INVALID
        return self.event_type

    def schema(self) -> dict[str, Any]:
        properties = {**_ENDPOINT, **self.properties}
        return {
            "type": "object",
            "required": ["webhook", "name", "url", "state", "organisation"],
            "properties": properties,
        }


FAILING = Kind(
    "failing",
    "hookline.endpoint.failing",
    signals.endpoint_failing,
    "is failing",
    "An endpoint failed HOOKLINE['ALERT_FAILING_ATTEMPTS'] attempts in a row, or has failed for "
    "HOOKLINE['ALERT_FAILING_AFTER'] seconds: the first warning, before retries run out.",
    _FAILURE,
)
DISABLED = Kind(
    "disabled",
    ENDPOINT_INVALID,
    signals.endpoint_disabled,
    "was disabled",
    "An endpoint stopped receiving events: invalid (retries ran out, or a test failed) or "
    "deactivated (the receiver answered 410 Gone). It receives nothing until someone re-enables it.",
    {**_FAILURE, "reason": {"type": "string", "description": "Why its state changed."}},
)
RECOVERED = Kind(
    "recovered",
    "hookline.endpoint.recovered",
    signals.endpoint_recovered,
    "recovered",
    "The first successful delivery to an endpoint after it was reported failing or disabled.",
    {**_FAILURE, "recovered_at": {"type": "string", "format": "date-time"}},
)
BREAKER_OPENED = Kind(
    "breaker_opened",
    "hookline.breaker.opened",
    signals.breaker_opened,
    "has its circuit breaker open",
    "An endpoint's circuit breaker opened: its deliveries wait for a probe instead of burning retries.",
    {
        "reason": {"type": "string"},
        "until": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When one probe delivery will decide.",
        },
    },
)
BREAKER_CLOSED = Kind(
    "breaker_closed",
    "hookline.breaker.closed",
    signals.breaker_closed,
    "has its circuit breaker closed again",
    "An endpoint's circuit breaker closed: a probe succeeded, or an operator closed it.",
    {"reason": {"type": "string"}},
)
DELIVERY_EXHAUSTED = Kind(
    "delivery_exhausted",
    "hookline.delivery.exhausted",
    signals.delivery_exhausted,
    "ran out of retries for a delivery",
    "A delivery's retry budget is spent: it failed for good (at most one event per endpoint per alert window).",
    {
        **_FAILURE,
        "delivery": {"type": "integer"},
        "event": {"type": "string", "description": "The event's id (msg_…), its webhook-id."},
        "event_type": {"type": "string"},
        "attempts": {"type": "integer"},
    },
)
SECRET_EXPIRING = Kind(
    "secret_expiring",
    "hookline.secret.expiring",
    signals.secret_expiring,
    "stops signing with its previous secret soon",
    "An endpoint's secret was rotated and the previous one stops signing within HOOKLINE['ALERT_SECRET_NOTICE'] "
    "seconds: receivers still verifying with it must switch to the new one.",
    {"expires_at": {"type": "string", "format": "date-time"}},
)

KINDS = {
    kind.name: kind
    for kind in (
        FAILING,
        DISABLED,
        RECOVERED,
        BREAKER_OPENED,
        BREAKER_CLOSED,
        DELIVERY_EXHAUSTED,
        SECRET_EXPIRING,
    )
}


def register_event_types() -> None:
    """Declare the operational event types with their schemas (synchronised to the catalog on migrate)."""
    for kind in KINDS.values():
        if kind is DISABLED:
            events.register(
                ENDPOINT_INVALID,
                schema=kind.schema(),
                description=(
                    "An endpoint's retries ran out or its test failed; it receives no events until someone fixes it."
                ),
            )
            events.register(
                ENDPOINT_DEACTIVATED,
                schema=kind.schema(),
                description=("A receiver answered 410 Gone and its endpoint was switched off."),
            )
        else:
            events.register(kind.event_type, schema=kind.schema(), description=kind.description)
