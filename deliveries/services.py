"""Delivery operations for the admin and the API: redeliver, and the re-queueing that endpoint recovery shares."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hooks.models import Webhook

from . import lifecycle, wakeup
from .exceptions import EndpointNotReceiving
from .models import Delivery

logger = logging.getLogger(__name__)


def redeliver(delivery: Delivery) -> None:
    """Send a delivery again, with the same ``webhook-id`` and a fresh retry budget."""
    requeue(Delivery.objects.filter(id=delivery.id), delivery.webhook)


def requeue(deliveries: QuerySet[Delivery], webhook: Webhook) -> int:
    """Send these deliveries of one endpoint again (fresh retry budget, same webhook-id); returns how many."""
    if not webhook.enabled:
        raise EndpointNotReceiving(f"{webhook.name} is {webhook.state}: enable it (or send a test) first.")
    with transaction.atomic():
        ids = lifecycle.requeue(deliveries, timezone.now())
        transaction.on_commit(lambda: _wake_for(ids))
    return len(ids)


def _wake_for(delivery_ids: list[int]) -> None:
    try:
        wakeup.publish_for(len(delivery_ids))
    except Exception:  # broker down: the workers' periodic check finds the due deliveries
        logger.warning("Could not publish a wake-up for %d requeued delivery(ies)", len(delivery_ids), exc_info=True)
