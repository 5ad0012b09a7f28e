"""The delivery lifecycle: every change of a Delivery's status and lease, as named transitions.

Each transition is a conditional bulk UPDATE: it names the rows and the state they must still be in
(their claim token, their status), so a transition that lost a race changes nothing instead of
overwriting the winner. No other module writes ``status``, ``claimed_until``, ``claim_token`` or the
due time ``next_attempt_at`` (tests/deliveries/test_lifecycle.py greps for it).

    pending ──claim──▶ pending+lease ──settle──▶ succeeded | failed | cancelled | pending (retry)
       ▲                    │ release (unsent, over a cap, waiting for a rate limit/breaker/FIFO)
       │◀───────────────────┘
    pending ──hold──▶ held ──unhold──▶ pending;  finished ──requeue──▶ pending;  pending ──cancel──▶ cancelled
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from . import claims
from .models import Delivery

Status = Delivery.Status
# The fields a settled delivery's outcome writes (besides the lease, which settle() always clears).
OUTCOME_FIELDS = [
    "status",
    "attempts",
    "total_attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "completed_at",
    "batch_id",
]


# --- the lease ------------------------------------------------------------------------------------


def claim(queryset: QuerySet[Delivery], *, token: str, lease: datetime, skip_locked: bool = False) -> list[Delivery]:
    """pending → leased: one ``UPDATE … RETURNING`` over the rows ``queryset`` selects (deliveries/claims.py)."""
    return claims.claim(queryset, token=token, lease=lease, skip_locked=skip_locked)


def lease_new(deliveries: Iterable[Delivery], *, token: str, lease: datetime) -> None:
    """New, not yet saved deliveries created already claimed (fan-out sends them without a second claim)."""
    for delivery in deliveries:
        delivery.claimed_until, delivery.claim_token = lease, token


def release(deliveries: Iterable[Delivery], *, due: datetime | None = None) -> int:
    """leased → pending, unsent and attempts untouched (a cap was full, or the claim ran short of time).

    ``due`` moves the due time too (rate limit, breaker, FIFO), only if it is still the one claimed:
    a FIFO head's end may have moved it forward meanwhile, and that must not be overwritten.
    """
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for delivery in deliveries:
        groups[(delivery.claim_token, delivery.next_attempt_at)].append(delivery.id)
        delivery.claimed_until, delivery.claim_token = None, ""
        if due is not None:
            delivery.next_attempt_at = due
    released = 0
    for (token, seen), ids in groups.items():
        mine = Delivery.objects.filter(id__in=ids, claim_token=token)
        if due is not None:
            moved = mine.filter(next_attempt_at=seen).update(next_attempt_at=due, claimed_until=None, claim_token="")
            released += moved
            if moved == len(ids):
                continue
        released += mine.update(claimed_until=None, claim_token="")
    return released


def settle(deliveries: list[Delivery]) -> int:
    """leased → the outcome set on each delivery (succeeded, failed, cancelled, or pending for a retry).

    ``delivery.claim_token`` must still be the token it was claimed with: a claim that ran out and was
    taken by another worker is not overwritten (its attempt is logged all the same). The objects keep
    their token (a rolled-back write is tried again with it): forget_lease() after the commit. One UPDATE per
    distinct set of values: a batch mostly ends alike, and bulk_update()'s CASE per field and row cost
    more time than the HTTP requests themselves.
    """
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for delivery in deliveries:
        groups[(delivery.claim_token, *(getattr(delivery, name) for name in OUTCOME_FIELDS))].append(delivery.id)
    written = 0
    for (token, *values), ids in groups.items():
        rows = Delivery.objects.filter(id__in=ids)
        if token:
            rows = rows.filter(claim_token=token)
        written += rows.update(claimed_until=None, claim_token="", **dict(zip(OUTCOME_FIELDS, values, strict=True)))
    return written


# --- outcomes set in memory, written by settle() ---------------------------------------------------


def succeed(delivery: Delivery, now: datetime) -> None:
    delivery.status, delivery.completed_at, delivery.next_attempt_at = Status.SUCCEEDED, now, None


def fail(delivery: Delivery, now: datetime, reason: str | None = None) -> None:
    delivery.status, delivery.completed_at, delivery.next_attempt_at = Status.FAILED, now, None
    if reason is not None:
        delivery.last_error = reason[:500]


def cancel(delivery: Delivery, now: datetime, reason: str) -> None:
    delivery.status, delivery.completed_at, delivery.next_attempt_at = Status.CANCELLED, now, None
    delivery.last_error = reason[:500]


def retry(delivery: Delivery, due: datetime) -> None:
    delivery.next_attempt_at = due


# --- transitions outside a send ---------------------------------------------------------------------


def create(*, due: datetime, held: bool, **fields: Any) -> Delivery:
    """A new delivery (not saved): pending and due at ``due``, or held for a paused endpoint."""
    return Delivery(next_attempt_at=due, status=Status.HELD if held else Status.PENDING, **fields)


def hold(queryset: QuerySet[Delivery]) -> int:
    """pending → held (a paused endpoint): released, attempts untouched."""
    return queryset.filter(status=Status.PENDING).update(status=Status.HELD, claimed_until=None, claim_token="")


def unhold(queryset: QuerySet[Delivery]) -> int:
    """held → pending (the endpoint resumed), due times kept."""
    return queryset.filter(status=Status.HELD).update(status=Status.PENDING)


def requeue(queryset: QuerySet[Delivery], now: datetime) -> list[int]:
    """finished → pending with a fresh retry budget, due now (redeliver, recover). Returns the ids."""
    ids = list(queryset.exclude(status=Status.PENDING).values_list("id", flat=True))
    Delivery.objects.filter(id__in=ids).exclude(status=Status.PENDING).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        completed_at=None,
        claimed_until=None,
        claim_token="",
        batch_id="",  # a redelivery travels anew
    )
    return ids


def cancel_pending(queryset: QuerySet[Delivery], now: datetime, reason: str) -> int:
    """pending → cancelled (an operator skipped it)."""
    return queryset.filter(status=Status.PENDING).update(
        status=Status.CANCELLED,
        completed_at=now,
        next_attempt_at=None,
        last_error=reason[:500],
        claimed_until=None,
        claim_token="",
    )


def reschedule(
    queryset: QuerySet[Delivery], due: datetime, *, only_later: bool = False, loaded: Iterable[Delivery] = ()
) -> int:
    """Move pending deliveries' due time (a FIFO successor, a closed breaker, a resume's pacing, the sweeper,
    a full batch); ``loaded``: the same deliveries in memory, changed alike."""
    rows = queryset.filter(status__in=[Status.PENDING, Status.HELD])
    if only_later:
        rows = rows.filter(Q(next_attempt_at__gt=due))
    for delivery in loaded:
        if not only_later or delivery.next_attempt_at is None or delivery.next_attempt_at > due:
            delivery.next_attempt_at = due
    return rows.update(next_attempt_at=due)


def forget_lease(deliveries: Iterable[Delivery]) -> None:
    """In memory, after settle() or release() committed: these deliveries are no longer this worker's."""
    for delivery in deliveries:
        delivery.claimed_until, delivery.claim_token = None, ""
