"""Delivery operations for the admin and the API: test, redeliver, recover, delete."""
from __future__ import annotations

import logging

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from events.models import Event
from hooks import states
from hooks.hookline_events import WEBHOOK_TEST
from hooks.models import Webhook

from . import delivering, lifecycle, messages, retry, wakeup
from .exceptions import EndpointNotReceiving, PendingDeliveries
from .models import Attempt, Delivery
from .retry import Decision, Outcome

logger = logging.getLogger(__name__)


def send_test(webhook: Webhook, *, user=None) -> Attempt:
    """Send a ``webhook.test`` event to this endpoint now, and set its state from the answer."""
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            type=WEBHOOK_TEST,
            payload={"webhook": webhook.id, "message": "This is a test event from Hookline."},
            organisation=webhook.organisation,
            created_at=now,
            dispatched_at=now,  # meant for this endpoint only: no fan-out
        )
        delivery = Delivery.objects.create(event=event, webhook=webhook, created_at=now)
    delivery.event, delivery.webhook = event, webhook
    request = messages.build_request(event, webhook, messages.test_body(event, webhook))
    result = delivering.send_all([request])[0]
    # A test is one attempt, never retried; its answer alone (judged by the endpoint's success codes) decides.
    succeeded = retry.decide(result.status, 1, policy=webhook.delivery_contract.policy).outcome is Outcome.SUCCEEDED
    decision = Decision(Outcome.SUCCEEDED if succeeded else Outcome.REJECTED)
    attempt = delivering.log_attempt(delivering.Sent(delivery, request, result), decision, timezone.now())
    with transaction.atomic():
        attempt.save()
        lifecycle.settle([delivery])
        if succeeded:
            states.transition(webhook, states.TEST_SUCCEEDED, user=user)
        else:
            states.transition(webhook, states.TEST_FAILED, detail=str(result.error or result.status), user=user)
    return attempt


def redeliver(delivery: Delivery) -> None:
    """Send a delivery again, with the same ``webhook-id`` and a fresh retry budget."""
    _requeue(Delivery.objects.filter(id=delivery.id), delivery.webhook)


def recover(webhook: Webhook, since: datetime) -> int:
    """Re-queue this endpoint's failed deliveries created since ``since``; returns how many."""
    return _requeue(webhook.deliveries.filter(status=Delivery.Status.FAILED, created_at__gte=since), webhook)


def _requeue(deliveries, webhook: Webhook) -> int:
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


def delete_webhook(webhook: Webhook, *, force: bool = True) -> None:
    """Delete an endpoint and its log; without force, refuse while deliveries are pending (or held)."""
    if not force and webhook.deliveries.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.HELD]).exists():
        raise PendingDeliveries()
    webhook.delete()
