"""Delivery operations for the admin and the API: redeliver, and the re-queueing that endpoint recovery shares."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hooks.models import Webhook

from .exceptions import EndpointNotReceiving
from .models import Delivery


def redeliver(delivery: Delivery) -> None:
    """Send a delivery again, with the same ``webhook-id`` and a fresh retry budget."""
    requeue(Delivery.objects.filter(id=delivery.id), delivery.webhook)


def requeue(deliveries, webhook: Webhook) -> int:
    """Send these deliveries of one endpoint again (fresh retry budget, same webhook-id); returns how many."""
    from .tasks import enqueue_deliveries

    if not webhook.enabled:
        raise EndpointNotReceiving(f"{webhook.name} is {webhook.state}: enable it (or send a test) first.")
    now = timezone.now()
    with transaction.atomic():
        ids = list(deliveries.exclude(status=Delivery.Status.PENDING).values_list("id", flat=True))
        Delivery.objects.filter(id__in=ids).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now,
            completed_at=None, claimed_until=None, claim_token="", batch_id="",  # a redelivery travels anew
        )
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return len(ids)
