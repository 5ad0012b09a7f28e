"""Every action on an endpoint, in one module: what the admin, the API and the management commands call.

create, update, rotate_secret, enable and disable change only the endpoint's row: they live in
hooks.services (hooks imports nothing above it) and are exposed here under their action names. The
actions that involve deliveries (test, recover, delete, and delivery control's pause, resume, breaker
reset and head-of-line skip) are here or in deliveries.control, whose rules they belong to.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from events.models import Event
from hooks import states
from hooks.hookline_events import WEBHOOK_TEST
from hooks.models import Webhook
from hooks.services import clean_webhook_fields as clean
from hooks.services import create_webhook as create
from hooks.services import disable, enable, rotate_body_token, rotate_secret, validate_body_token, validate_secret
from hooks.services import update_webhook as update

from . import delivering, lifecycle, messages, retry
from .alerts import moments as alerts  # the alert lock comes first (alerts/notify.py)
from .control import head_of_line, pause, reset_breaker, resume, skip_head
from .exceptions import PendingDeliveries
from .models import Attempt, Delivery, EndpointRuntime, runtime_of
from .retry import Decision, Outcome
from .services import requeue
from .transport import TransportResult

__all__ = [
    "clean",
    "create",
    "delete",
    "disable",
    "enable",
    "for_listing",
    "head_of_line",
    "pause",
    "recover",
    "reset_breaker",
    "resume",
    "rotate_body_token",
    "rotate_secret",
    "runtime",
    "send_test",
    "skip_head",
    "update",
    "validate_body_token",
    "validate_secret",
]


def send_test(webhook: Webhook, *, user: User | None = None) -> Attempt:
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
    result = cast(TransportResult, delivering.send_all([request])[0])  # None only past a start_by, not given here
    # A test is one attempt, never retried; its answer alone (judged by the endpoint's success codes) decides.
    succeeded = retry.decide(result.status, 1, policy=webhook.delivery_contract.policy).outcome is Outcome.SUCCEEDED
    decision = Decision(Outcome.SUCCEEDED if succeeded else Outcome.REJECTED)
    attempt = delivering.log_attempt(delivering.Sent(delivery, request, result), decision, timezone.now())
    with transaction.atomic():
        if not succeeded:  # "a test failed" tells the owners: the alert lock before the endpoint's row
            alerts.lock_first(webhook.pk)
        attempt.save()
        lifecycle.settle([delivery])
        if succeeded:
            states.transition(webhook, states.TEST_SUCCEEDED, user=user)
        else:
            states.transition(webhook, states.TEST_FAILED, detail=str(result.error or result.status), user=user)
    return attempt


def recover(webhook: Webhook, since: datetime) -> int:
    """Re-queue this endpoint's failed deliveries created since ``since``; returns how many."""
    return requeue(webhook.deliveries.filter(status=Delivery.Status.FAILED, created_at__gte=since), webhook)


def delete(webhook: Webhook, *, force: bool = True) -> None:
    """Delete an endpoint and its log; without force, refuse while deliveries are pending (or held)."""
    if not force and webhook.deliveries.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.HELD]).exists():
        raise PendingDeliveries()
    webhook.delete()


def runtime(webhook: Webhook) -> EndpointRuntime:
    """What the workers keep about the endpoint (breaker, pause), for display; unsaved and idle if nothing yet."""
    return runtime_of(webhook)


def for_listing(endpoints: QuerySet[Webhook]) -> QuerySet[Webhook]:
    """An endpoint queryset with the runtime state joined in (lists show pause and breaker without a query per row)."""
    return endpoints.select_related("runtime")
