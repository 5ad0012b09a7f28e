"""Fan-out: one Delivery per (event, matching endpoint), created in bulk, once per event."""
from __future__ import annotations

from collections import defaultdict
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
    now = timezone.now()
    with transaction.atomic():
        events = list(
            Event.objects.filter(id__in=list(event_ids), dispatched_at__isnull=True)
            .select_for_update(skip_locked=True)
            .only("id", "type", "organisation_id")
        )
        if not events:
            return []
        endpoints = _receiving_endpoints({event.organisation_id for event in events})
        deliveries = [
            Delivery(event_id=event.id, webhook_id=webhook_id, created_at=now, next_attempt_at=now)
            for event in events
            for webhook_id, event_types in endpoints[event.organisation_id]
            if patterns.matches_any(event_types, event.type)
        ]
        Delivery.objects.bulk_create(deliveries, batch_size=2000)
        Event.objects.filter(id__in=[event.id for event in events]).update(dispatched_at=now)
    return [delivery.id for delivery in sorted(deliveries, key=lambda d: (d.webhook_id, d.id))]


def _receiving_endpoints(organisation_ids: set[int | None]) -> dict[int | None, list[tuple[int, list[str]]]]:
    """(id, patterns) of every receiving endpoint of these tenants, in one query."""
    query = Webhook.objects.receiving().for_organisations(organisation_ids)
    by_org: dict[int | None, list[tuple[int, list[str]]]] = defaultdict(list)
    for webhook_id, org_id, event_types in query.values_list("id", "organisation_id", "event_types"):
        by_org[org_id].append((webhook_id, event_types))
    return by_org
