"""Fan-out: one Delivery per (event, matching endpoint), created in bulk, once per event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from events.models import Event
from hooks import conditions, contracts, patterns
from hooks.models import Webhook

from . import lifecycle
from .models import Delivery

# id, patterns, compiled condition, batch wait (s), paused
Endpoint = tuple[int, list[str], "conditions.Predicate | None", float, bool]
# What fan_out_waiting claims: at most this many, with this token and lease, none of these endpoints, and no more of
# an endpoint than the room function says
Claim = tuple[int, str, datetime, Set[int], Callable[[int], int] | None]


def fan_out(event_ids: Iterable[str]) -> list[int]:
    """Create the deliveries of these events; returns their ids, grouped by endpoint.

    Safe to call twice or concurrently for the same events (a redelivered task, two sweepers):
    the event rows are locked and only undispatched ones are fanned out.
    """
    with transaction.atomic():
        events = list(
            Event.objects.filter(id__in=list(event_ids), dispatched_at__isnull=True)
            .select_for_update(skip_locked=True)
            .only("id", "type", "organisation_id", "payload", "target_endpoints")
        )
        deliveries = _create_deliveries(events, timezone.now())
    return [delivery.id for delivery in sorted(deliveries, key=lambda d: (d.webhook_id, d.id))]


@dataclass
class FanOut:
    events: int = 0
    claimed: list[Delivery] = field(default_factory=list)
    more: bool = False  # events or deliveries were left for another run
    # Endpoints whose due deliveries were left because they have no room in this process's senders.
    capped: frozenset[int] = frozenset()
    batch_wait: float | None = None  # seconds until the first new batch is due (batch endpoints' deliveries wait)


def fan_out_waiting(
    *,
    limit: int,
    claim_limit: int,
    token: str,
    lease: datetime,
    look_first: bool = True,
    skip_endpoints: Set[int] = frozenset(),
    endpoint_room: Callable[[int], int] | None = None,
) -> FanOut:
    """Fan out up to ``limit`` waiting events, oldest first, skipping those another run holds.

    Up to ``claim_limit`` of the new deliveries are created already claimed with ``token``, with their
    event and endpoint attached: the caller sends them without a second claim or a re-read. None of
    ``skip_endpoints`` (their in-flight cap is full), and no more of an endpoint than ``endpoint_room`` says
    (claimed and released at once, they would cost an UPDATE and a claim more): those are created pending and
    due, to be claimed later.
    ``look_first`` checks with one cheap query before opening a transaction (the common case when a
    run looks again); a run that a commit's wake-up started expects an event and skips it.
    """
    if look_first and not Event.objects.undispatched().exists():
        return FanOut()
    with transaction.atomic():
        events = list(
            Event.objects.undispatched()
            .order_by("created_at")
            .select_for_update(skip_locked=True)
            .only("id", "type", "organisation_id", "payload", "target_endpoints", "created_at")[:limit]
        )
        now = timezone.now()
        deliveries = _create_deliveries(events, now, claim=(claim_limit, token, lease, skip_endpoints, endpoint_room))
    claimed = [delivery for delivery in deliveries if delivery.claim_token]
    waits = [(_due(d) - now).total_seconds() for d in deliveries if _due(d) > now]
    webhooks = Webhook.objects.select_related("runtime").in_bulk({delivery.webhook_id for delivery in claimed})
    by_id = {event.id: event for event in events}
    for delivery in claimed:
        delivery.event, delivery.webhook = by_id[delivery.event_id], webhooks[delivery.webhook_id]
    # More for another run: events beyond the limit, or deliveries due now that this run did not claim
    # (not those waiting for a batch's company, not a paused endpoint's held ones).
    due_now = sum(1 for d in deliveries if d.status == Delivery.Status.PENDING and _due(d) <= now)
    capped = [d.webhook_id for d in deliveries if d.capped]
    more = len(events) >= limit or due_now - len(capped) > len(claimed)
    return FanOut(
        events=len(events),
        claimed=claimed,
        more=more,
        capped=frozenset(capped),
        batch_wait=min(waits) if waits else None,
    )


def _create_deliveries(events: list[Event], now: datetime, *, claim: Claim | None = None) -> list[Delivery]:
    """One Delivery per (event, receiving endpoint), created in bulk; the events are marked dispatched."""
    if not events:
        return []
    endpoints = _receiving_endpoints({event.organisation_id for event in events})
    # A batch endpoint's deliveries wait up to its max_wait for company (deliveries/batching.py).
    deliveries = [
        lifecycle.create(
            event_id=event.id,
            webhook_id=webhook_id,
            created_at=now,
            due=now + timedelta(seconds=wait) if wait else now,
            held=paused,
        )
        for event in events
        for webhook_id, wait, paused in _recipients(event, endpoints[event.organisation_id])
    ]
    if claim is not None:
        claim_limit, token, lease, skip_endpoints, endpoint_room = claim
        # Not a batch's waiting deliveries, nor a paused endpoint's held ones (deliveries/control.py).
        due_now = [d for d in deliveries if d.status == Delivery.Status.PENDING and d.next_attempt_at == now]
        for delivery in due_now:  # their endpoint's room here is full: left for its next freed slot
            delivery.capped = delivery.webhook_id in skip_endpoints
        due_now = [d for d in due_now if not d.capped]
        if endpoint_room is not None:
            rooms: dict[int, int] = {}
            for delivery in due_now:
                if delivery.webhook_id not in rooms:
                    rooms[delivery.webhook_id] = endpoint_room(delivery.webhook_id)
            due_now = [d for d in due_now if _take(rooms, d)]
        lifecycle.lease_new(due_now[:claim_limit], token=token, lease=lease)
    Delivery.objects.bulk_create(deliveries, batch_size=2000)
    Event.objects.filter(id__in=[event.id for event in events]).update(dispatched_at=now)
    _release_full_batches(deliveries, now)
    return deliveries


def _due(delivery: Delivery) -> datetime:
    """A new delivery's due time: lifecycle.create always sets one (only a finished delivery has none)."""
    if delivery.next_attempt_at is None:
        raise ValueError(f"A new delivery without a due time: {delivery}")
    return delivery.next_attempt_at


def _take(rooms: dict[int, int], delivery: Delivery) -> bool:
    if rooms[delivery.webhook_id] <= 0:
        delivery.capped = True
        return False
    rooms[delivery.webhook_id] -= 1
    return True


def _release_full_batches(deliveries: list[Delivery], now: datetime) -> None:
    """A batch endpoint whose waiting first attempts fill a batch sends it now, not after max_wait."""
    waiting = {d.webhook_id for d in deliveries if d.status == Delivery.Status.PENDING and _due(d) > now}
    if not waiting:
        return
    for webhook_id, contract in Webhook.objects.filter(id__in=waiting).values_list("id", "contract"):
        max_count = contracts.parse(contract).batch.max_count
        queued = Delivery.objects.pending().filter(
            webhook_id=webhook_id, batch_id="", attempts=0, next_attempt_at__gt=now, claimed_until__isnull=True
        )
        if max_count > 1 and queued.count() >= max_count:
            lifecycle.reschedule(
                queued,
                now,
                loaded=[d for d in deliveries if d.webhook_id == webhook_id and d.status == Delivery.Status.PENDING],
            )


def _recipients(event: Event, endpoints: list[Endpoint]) -> list[tuple[int, float, bool]]:
    """(id, batch wait, paused) of the endpoints that get this event. Explicit targets replace
    subscription and condition; otherwise the pattern, then the condition, decide."""
    if event.target_endpoints is not None:
        chosen = set(event.target_endpoints)
        return [(webhook_id, wait, paused) for webhook_id, _, _, wait, paused in endpoints if webhook_id in chosen]
    payload, key = event.payload, event.type
    return [
        (webhook_id, wait, paused)
        for webhook_id, event_types, condition, wait, paused in endpoints
        if patterns.matches_any(event_types, key) and (condition is None or condition(payload))
    ]


def _receiving_endpoints(organisation_ids: set[int | None]) -> dict[int | None, list[Endpoint]]:
    """(id, patterns, compiled condition, batch wait in seconds, paused) of every receiving endpoint of
    these tenants, in one query.

    Conditions are compiled here (once per distinct condition and process), so each event costs only the closures'
    calls.
    """
    # The condition as text: a compiled one is found by it without decoding the JSON again.
    query = (
        Webhook.objects.receiving()
        .for_organisations(organisation_ids)
        .annotate(condition_text=Cast("condition", TextField()))
    )
    by_org: dict[int | None, list[Endpoint]] = defaultdict(list)
    for webhook_id, org_id, event_types, text, contract, paused in query.values_list(
        "id", "organisation_id", "event_types", "condition_text", "contract", "runtime__paused"
    ):
        batch = contracts.parse(contract).batch  # a batch endpoint's deliveries wait for company
        wait = batch.max_wait if batch.enabled else 0.0
        by_org[org_id].append((webhook_id, event_types, conditions.compiled(text), wait, bool(paused)))
    return by_org
