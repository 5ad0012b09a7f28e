"""Endpoint states and the one function that moves an endpoint between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.db import models, transaction
from django.utils import timezone

from . import signals
from .hookline_events import ENDPOINT_DEACTIVATED, ENDPOINT_INVALID

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Endpoint(Protocol):
    """What transition() needs of the endpoint handed in (hooks.models.Webhook). Described, not imported:
    the model imports this module for State and transition(), so an import back would close a circle."""

    _default_manager: ClassVar[Any]  # the model's manager
    pk: Any
    state: str
    updated_by_id: int | None

    @property
    def updated_by(self) -> Any: ...

    @updated_by.setter
    def updated_by(self, value: Any) -> None: ...


class State(models.TextChoices):
    NEW = "new", "new (not yet proven)"
    VALID = "valid", "valid"
    INVALID = "invalid", "invalid (failing)"
    DEACTIVATED = "deactivated", "deactivated"


RECEIVING_STATES = (State.NEW, State.VALID)
ALL_STATES = tuple(State)


@dataclass(frozen=True)
class Change:
    """One cause of a state change: where it may start, where it ends, why, and what it tells the site."""

    target: State
    sources: tuple[State, ...]
    reason: str
    event: str = ""  # the operational event emitted when the change happens
    by_person: bool = False  # an operator's action: recorded in updated_by/updated_at


def _except(state: State) -> tuple[State, ...]:
    return tuple(s for s in State if s != state)


# Owners and operators may always act; the worker's changes start only where they make sense, so a
# delivery finishing after its endpoint was switched off does not switch it back on or mark it invalid.
URL_CHANGED = Change(State.NEW, ALL_STATES, "URL changed")
SET_NEW_BY_OWNER = Change(State.NEW, _except(State.NEW), "set by its owner")
SET_DEACTIVATED_BY_OWNER = Change(State.DEACTIVATED, _except(State.DEACTIVATED), "set by its owner")
ENABLED = Change(State.NEW, ALL_STATES, "enabled", by_person=True)
DISABLED = Change(State.DEACTIVATED, ALL_STATES, "disabled by its owner", by_person=True)
TEST_SUCCEEDED = Change(State.VALID, ALL_STATES, "a test succeeded", by_person=True)
TEST_FAILED = Change(State.INVALID, ALL_STATES, "a test failed", ENDPOINT_INVALID, by_person=True)
DELIVERY_SUCCEEDED = Change(State.VALID, (State.NEW,), "a delivery succeeded")
RETRIES_RAN_OUT = Change(State.INVALID, RECEIVING_STATES, "retries ran out", ENDPOINT_INVALID)
GONE = Change(State.DEACTIVATED, _except(State.DEACTIVATED), "the receiver answered 410 Gone", ENDPOINT_DEACTIVATED)

SET_BY_OWNER = {State.NEW: SET_NEW_BY_OWNER, State.DEACTIVATED: SET_DEACTIVATED_BY_OWNER}


def transition(
    webhook: Endpoint, change: Change, *, detail: str = "", user: User | None = None, commit: bool = True
) -> bool:
    """Move ``webhook`` as ``change`` says, if its state allows it; returns whether it moved.

    Committed, it is one conditional UPDATE (the row's state decides, so concurrent workers move an
    endpoint once) and, when it moved, the change's operational event in the same transaction.
    ``commit=False`` only sets the fields, for an edit that its caller saves (no event: only
    committed changes may have one).
    """
    if webhook.state not in change.sources:  # the loaded state: spares the UPDATE that would match nothing
        return False
    if change.event and not commit:
        raise ValueError(f"{change.reason!r} emits {change.event}: it must be committed")
    reason = f"{change.reason}: {detail}" if detail else change.reason
    now = timezone.now()
    fields = {"state": change.target, "state_reason": reason[:500], "state_changed_at": now}
    if change.by_person:
        if user is not None:
            webhook.updated_by = user
        fields.update(updated_by_id=webhook.updated_by_id, updated_at=now)
    if commit:
        # No savepoint: inside the worker's write a failure rolls back the whole batch anyway.
        with transaction.atomic(savepoint=False):
            endpoints = type(webhook)._default_manager
            if not endpoints.filter(pk=webhook.pk, state__in=change.sources).update(**fields):
                return False
            if change.event:  # deliveries.alerts: the operational event, the email, the public signal
                signals.endpoint_state_changed.send(
                    sender=type(webhook), webhook_id=webhook.pk, change=change, reason=reason
                )
    for name, value in fields.items():
        setattr(webhook, name, value)
    return True
