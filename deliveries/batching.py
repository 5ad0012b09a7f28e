"""Batched delivery: an endpoint that asks for it gets a JSON array of events per POST, one signature over it all.

A batch endpoint's new deliveries wait up to ``batch.max_wait`` (fan-out sets their due time). When one is
due and claimed, its endpoint's other waiting first attempts are claimed with it (``gather``), up to
``batch.max_count`` per request; each request gets a batch id (its ``webhook-id``), stored on every member.
A retry claims the whole batch again and resends the same events, in the same order, under the same id.
Each event keeps its own Delivery (and an Attempt per try), so its status stays queryable.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime
from typing import cast

from django.utils import timezone

from events.models import Event
from hooks.models import Webhook

from . import lifecycle
from .models import Delivery

BATCH_PREFIX = "batch_"


def new_batch_id() -> str:
    return BATCH_PREFIX + secrets.token_hex(12)


def is_batched(webhook: Webhook) -> bool:
    return webhook.delivery_contract.batch.enabled


def gather(claimed: list[Delivery]) -> list[Delivery]:
    """``claimed`` plus the deliveries that must travel with them: the rest of each retried batch, and a batch
    endpoint's other waiting first attempts (up to its max count). Claimed with the same token and lease."""
    batch_endpoints = {d.webhook_id: d.webhook for d in claimed if is_batched(d.webhook)}
    if not batch_endpoints:
        return claimed
    # a claimed delivery has its lease set
    token, lease, now = claimed[0].claim_token, cast(datetime, claimed[0].claimed_until), timezone.now()
    taken = {d.id for d in claimed}
    extra: list[Delivery] = []
    for webhook_id, webhook in batch_endpoints.items():
        mine = [d for d in claimed if d.webhook_id == webhook_id]
        waiting = Delivery.objects.pending().unleased(now).filter(webhook_id=webhook_id).exclude(id__in=taken)
        batch_ids = {d.batch_id for d in mine if d.batch_id}
        if batch_ids:
            extra += lifecycle.claim(waiting.filter(batch_id__in=batch_ids), token=token, lease=lease, skip_locked=True)
        fresh = sum(1 for d in mine if not d.batch_id)
        room = webhook.delivery_contract.batch.max_count - fresh
        if fresh and room > 0:
            first_attempts = waiting.filter(batch_id="", attempts=0).order_by("created_at", "id")[:room]
            extra += lifecycle.claim(first_attempts, token=token, lease=lease, skip_locked=True)
    if extra:
        events = Event.objects.in_bulk({d.event_id for d in extra})
        for delivery in extra:
            delivery.event, delivery.webhook = events[delivery.event_id], batch_endpoints[delivery.webhook_id]
    return claimed + extra


def group(deliveries: list[Delivery], max_count: int) -> list[list[Delivery]]:
    """One endpoint's deliveries as the batches to send: retried batches as they were, new ones in emit order.

    New members get their batch id here (saved with the delivery's state after the send).
    """
    by_batch: dict[str, list[Delivery]] = defaultdict(list)
    fresh: list[Delivery] = []
    for delivery in deliveries:
        (by_batch[delivery.batch_id] if delivery.batch_id else fresh).append(delivery)
    fresh.sort(key=lambda d: (d.event.created_at, d.event_id))
    for start in range(0, len(fresh), max_count):
        batch_id = new_batch_id()
        for delivery in fresh[start : start + max_count]:
            delivery.batch_id = batch_id
            by_batch[batch_id].append(delivery)
    return [sorted(members, key=lambda d: (d.event.created_at, d.event_id)) for members in by_batch.values()]
