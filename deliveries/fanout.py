"""Fan-out: one Delivery per (event, matching endpoint), created in bulk, once per event."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from django.db import transaction
from django.utils import timezone

from events.models import Event
from hooks import patterns
from hooks.models import Webhook

from .models import Delivery


def fan_out(event_ids: Iterable[str]) -> list[int]:
    """Create the deliveries of these events; returns their ids, grouped by endpoint.

    Safe to call twice or concurrently for the same events (a redelivered task, two sweepers):
    the event rows are locked and only undispatched ones are fanned out.
    """
    with transaction.atomic():
        events = list(
            Event.objects.filter(id__in=list(event_ids), dispatched_at__isnull=True)
            .select_for_update(skip_locked=True)
            .only("id", "type", "organisation_id")
        )
        deliveries = _create_deliveries(events, timezone.now())
    return [delivery.id for delivery in sorted(deliveries, key=lambda d: (d.webhook_id, d.id))]


@dataclass
class FanOut:
    events: int = 0
    claimed: list[Delivery] = field(default_factory=list)
    more: bool = False  # events or deliveries were left for another run


def fan_out_waiting(*, limit: int, claim_limit: int, token: str, lease: datetime, look_first: bool = True) -> FanOut:
    """Fan out up to ``limit`` waiting events, oldest first, skipping those another run holds.

    Up to ``claim_limit`` of the new deliveries are created already claimed with ``token``, with their
    event and endpoint attached: the caller sends them without a second claim or a re-read.
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
            .only("id", "type", "organisation_id", "payload", "created_at")[:limit]
        )
        deliveries = _create_deliveries(events, timezone.now(), claim=(claim_limit, token, lease))
    claimed = [delivery for delivery in deliveries if delivery.claim_token]
    webhooks = Webhook.objects.in_bulk({delivery.webhook_id for delivery in claimed})
    by_id = {event.id: event for event in events}
    for delivery in claimed:
        delivery.event, delivery.webhook = by_id[delivery.event_id], webhooks[delivery.webhook_id]
    unclaimed = sum(1 for delivery in deliveries if delivery.status == Delivery.Status.PENDING) > len(claimed)
    return FanOut(events=len(events), claimed=claimed, more=len(events) >= limit or unclaimed)


def _create_deliveries(events: list[Event], now, *, claim: tuple[int, str, datetime] | None = None) -> list[Delivery]:
    """One Delivery per (event, receiving endpoint), created in bulk; the events are marked dispatched."""
    if not events:
        return []
    endpoints = _receiving_endpoints({event.organisation_id for event in events})
    deliveries = [
        Delivery(event_id=event.id, webhook_id=webhook_id, created_at=now, next_attempt_at=now,
                 status=Delivery.Status.HELD if paused else Delivery.Status.PENDING)
        for event in events
        for webhook_id, event_types, paused in endpoints[event.organisation_id]
        if patterns.matches_any(event_types, event.type)
    ]
    if claim is not None:
        claim_limit, token, lease = claim
        # A paused endpoint's deliveries are held (deliveries/control.py), not claimed.
        for delivery in [delivery for delivery in deliveries if delivery.status == Delivery.Status.PENDING][:claim_limit]:
            delivery.claimed_until, delivery.claim_token = lease, token
    Delivery.objects.bulk_create(deliveries, batch_size=2000)
    Event.objects.filter(id__in=[event.id for event in events]).update(dispatched_at=now)
    return deliveries


def _receiving_endpoints(organisation_ids: set[int | None]) -> dict[int | None, list[tuple[int, list[str], bool]]]:
    """(id, patterns, paused) of every receiving endpoint of these tenants, in one query."""
    query = Webhook.objects.receiving().for_organisations(organisation_ids)
    by_org: dict[int | None, list[tuple[int, list[str], bool]]] = defaultdict(list)
    for webhook_id, org_id, event_types, paused in query.values_list("id", "organisation_id", "event_types", "paused"):
        by_org[org_id].append((webhook_id, event_types, paused))
    return by_org
