"""Where operational moments are recognised: the worker's outcomes, state changes, the breaker and beat."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, cast

from django.utils import timezone

from hookline.conf import hookline_settings
from hooks import patterns
from hooks.models import Webhook
from hooks.states import Change

from ..models import Delivery
from ..retry import Outcome
from . import kinds
from .models import AlertState, Notification
from .notify import locked_state, notify

logger = logging.getLogger(__name__)

# Seconds a queued alert email may wait for its task before beat's check sends it itself.
EMAIL_STRANDED_AFTER = 60
PERIODIC_LIMIT = 200  # per run: bounded work, the next run takes the rest


def lock_first(webhook_id: int) -> None:
    """Take the endpoint's alert lock now, ahead of its Webhook and EndpointRuntime rows (the lock order in
    notify.py), in a path that changes those and may then notify. Inside the caller's transaction."""
    if hookline_settings.ALERTS:
        locked_state(webhook_id)


def record_outcomes(outcomes: list[tuple[Delivery, Outcome]], now: datetime) -> None:
    """Inside the worker's write, per endpoint: count its failing episode, warn, report exhaustion, or recover.

    The healthy common case (every endpoint succeeded, none was failing) costs one indexed query.
    """
    if not hookline_settings.ALERTS or not outcomes:
        return
    by_endpoint: dict[int, list[tuple[Delivery, Outcome]]] = defaultdict(list)
    for delivery, outcome in outcomes:
        by_endpoint[delivery.webhook_id].append((delivery, outcome))
    failing = set(
        AlertState.objects.filter(webhook_id__in=list(by_endpoint), failing_since__isnull=False).values_list(
            "webhook_id", flat=True
        )
    )
    for webhook_id in sorted(by_endpoint):  # one lock order across workers
        group = by_endpoint[webhook_id]
        successes = [index for index, (_, outcome) in enumerate(group) if outcome is Outcome.SUCCEEDED]
        failed = group[successes[-1] + 1 :] if successes else group
        if successes and webhook_id in failing and not failed:
            _recovered(webhook_id, now)
        elif failed:
            _failed(webhook_id, failed, now, recovered_first=bool(successes) and webhook_id in failing)


def _failed(webhook_id: int, failed: list[tuple[Delivery, Outcome]], now: datetime, *, recovered_first: bool) -> None:
    if recovered_first:  # a success, then failures, in one batch: a new episode
        _recovered(webhook_id, now)
    state = locked_state(webhook_id)
    last, _ = failed[-1]
    state.failing_since = state.failing_since or now
    state.failed_attempts += len({delivery.batch_id or delivery.pk for delivery, _ in failed})  # a batch is one request
    state.last_status_code = last.last_status_code
    state.last_error = error_text(last.last_error, last.last_status_code)
    state.save()
    about_operational = all(_is_operational(delivery) for delivery, _ in failed)
    exhausted = [delivery for delivery, outcome in failed if outcome in (Outcome.FAILED, Outcome.EXHAUSTED)]
    if exhausted:
        delivery = exhausted[-1]
        disabling = any(outcome is Outcome.FAILED for _, outcome in failed)  # the "disabled" email says it all
        notify(
            kinds.DELIVERY_EXHAUSTED,
            webhook_id,
            {
                **_failure_facts(state),
                "delivery": delivery.pk,
                "event": delivery.event_id,
                "event_type": delivery.event.type,
                "attempts": delivery.attempts,
            },
            now=now,
            about_operational=about_operational,
            email=not disabling,
        )
    if (
        not state.warned
        and _is_failing(state, now)
        and notify(kinds.FAILING, webhook_id, _failure_facts(state), now=now, about_operational=about_operational)
    ):
        AlertState.objects.filter(pk=webhook_id).update(warned=True)


def _recovered(webhook_id: int, now: datetime) -> None:
    """The first success of a failing episode ends it; it is news only if someone was warned."""
    state = locked_state(webhook_id)
    if state.warned:
        notify(kinds.RECOVERED, webhook_id, {**_failure_facts(state), "recovered_at": now}, now=now)
    AlertState.objects.filter(pk=webhook_id).update(failing_since=None, failed_attempts=0, warned=False)


def _is_failing(state: AlertState, now: datetime) -> bool:
    attempts, after = hookline_settings.ALERT_FAILING_ATTEMPTS, hookline_settings.ALERT_FAILING_AFTER
    return bool(
        (attempts and state.failed_attempts >= attempts)
        or (after and state.failing_since and now - state.failing_since >= timedelta(seconds=after))
    )


def _failure_facts(state: AlertState) -> dict[str, Any]:
    return {
        "failing_since": state.failing_since,
        "failed_attempts": state.failed_attempts,
        "last_error": state.last_error,
        "last_status_code": state.last_status_code,
    }


def error_text(error: str, status: int | None) -> str:
    """What failed, in a line: the transport's error, else the answer's status."""
    if error:
        return error[:500]
    return f"HTTP {status}" if status else "no answer"


def _is_operational(delivery: Delivery) -> bool:
    return patterns.is_reserved(delivery.event.type)  # the worker attached the event


# --- a state change that disabled an endpoint (hooks.signals.endpoint_state_changed) ----------------


def endpoint_state_changed(sender: object, *, webhook_id: int, change: Change, reason: str, **kwargs: Any) -> None:
    """Inside the transition's transaction: the endpoint became invalid or deactivated."""
    if not hookline_settings.ALERTS:
        return
    now = timezone.now()
    state = locked_state(webhook_id)
    last = (
        Delivery.objects.filter(webhook_id=webhook_id, status=Delivery.Status.FAILED)
        .order_by("-completed_at", "-id")
        .values("last_error", "last_status_code", "event__type")
        .first()
    )
    if last and not state.last_error:
        state.last_error = error_text(last["last_error"], last["last_status_code"])
        state.last_status_code = last["last_status_code"]
    state.failing_since = state.failing_since or now
    state.save()
    about_operational = bool(last and patterns.is_reserved(last["event__type"]))
    facts = {**_failure_facts(state), "reason": reason, "last_error": state.last_error or reason}
    if notify(kinds.DISABLED, webhook_id, facts, now=now, about_operational=about_operational):
        AlertState.objects.filter(pk=webhook_id).update(warned=True)


# --- the circuit breaker (deliveries/control.py) ----------------------------------------------------


def breaker_opened(webhook: Webhook, reason: str, until: datetime | None, now: datetime) -> None:
    notify(kinds.BREAKER_OPENED, webhook.pk, {"reason": reason, "until": until}, now=now)


def breaker_closed(webhook: Webhook, reason: str, now: datetime) -> None:
    notify(kinds.BREAKER_CLOSED, webhook.pk, {"reason": reason}, now=now)


# --- beat -------------------------------------------------------------------------------------------


def check_secrets(now: datetime | None = None) -> list[Notification]:
    """Warn about rotated-out secrets that stop signing within ALERT_SECRET_NOTICE (once per rotation)."""
    now = now or timezone.now()
    expiring = (
        Webhook.objects.exclude(previous_secret_encrypted="")
        .filter(
            previous_secret_expires_at__gt=now,
            previous_secret_expires_at__lte=now + timedelta(seconds=hookline_settings.ALERT_SECRET_NOTICE),
        )
        .values_list("id", "previous_secret_expires_at")[:PERIODIC_LIMIT]
    )
    told = []
    for webhook_id, expires_at in expiring:
        notification = notify(
            kinds.SECRET_EXPIRING,
            webhook_id,
            {"expires_at": expires_at},
            now=now,
            subject_key=f"secret:{cast(datetime, expires_at).isoformat()}",  # set: the filter compared it
        )
        if notification:
            told.append(notification)
    return told


def stranded_emails(now: datetime | None = None) -> list[int]:
    """Queued alert emails whose task never came (a broker outage): beat's check sends them."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            email_status=Notification.EmailStatus.QUEUED, created_at__lt=now - timedelta(seconds=EMAIL_STRANDED_AFTER)
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:PERIODIC_LIMIT]
    )
