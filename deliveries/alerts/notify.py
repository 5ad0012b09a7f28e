"""The one gate every operational moment passes, and its three channels: event, email, signal.

The gate: at most one notification per endpoint and kind per ``ALERT_WINDOW`` (a subject such as a
secret's expiry: once), decided with the endpoint's AlertState row locked so that concurrent workers
agree. The event goes only to the receiving endpoints that name its type exactly (reserved
``hookline.*`` types never match wildcards), never to the endpoint it is about, and not at all when
the trouble was a delivery of an operational event itself (an operations endpoint failing would
otherwise tell the others, whose failures would tell it: a loop).

Lock order, per endpoint: its AlertState row, then its Webhook row, then its EndpointRuntime row (and
endpoints in id order). The worker's record takes them so (alerts.record_outcomes before the state change
reads them, then control's counters); a path that locks a later row and may then notify takes the
AlertState first (``moments.lock_first``): the admin's test-send, the breaker's closing. Taken the other way
round, a test-send (Webhook, then AlertState in the state-change signal) and a worker (AlertState, then
Webhook for "retries ran out") deadlocked on the same endpoint.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

import events
from hookline import contacts
from hookline.conf import hookline_settings
from hooks import patterns
from hooks.models import Webhook

from .kinds import KINDS, Kind
from .models import AlertState, Notification

logger = logging.getLogger(__name__)

EMAIL_TASK = "hookline.alert_email"  # deliveries/alerts/tasks.py


def locked_state(webhook_id: int) -> AlertState:
    """The endpoint's AlertState, created if need be, locked until the caller's transaction ends."""
    AlertState.objects.get_or_create(webhook_id=webhook_id)
    return AlertState.objects.select_for_update().get(webhook_id=webhook_id)


def notify(
    kind: Kind,
    webhook_id: int,
    facts: dict[str, Any],
    *,
    now: datetime | None = None,
    about_operational: bool = False,
    subject_key: str = "",
    email: bool = True,
) -> Notification | None:
    """Tell the site about one moment, unless the window says it was told already; returns the record.

    Runs in the caller's transaction (or its own): the event is stored with it, the email and the
    signal follow its commit. ``about_operational``: the trouble came from delivering operational
    events, so no operational event is emitted about it (email and signal still are). ``email=False``:
    another notification of the same moment tells the owners (a delivery exhausted as its endpoint is disabled).
    """
    settings = hookline_settings
    if not settings.ALERTS:
        return None
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        locked_state(webhook_id)
        if _told_already(kind, webhook_id, now, subject_key):
            return None
        webhook = Webhook.objects.select_related("organisation").get(pk=webhook_id)
        payload = payload_for(webhook, facts)
        notification = Notification(
            webhook=webhook,
            organisation=webhook.organisation,
            kind=kind.name,
            subject_key=subject_key,
            created_at=now,
            payload=payload,
            summary=summary(kind, webhook, payload),
            signalled=settings.ALERT_SIGNALS,
        )
        if settings.ALERT_EVENTS and not about_operational:
            notification.event_ids, notification.event_endpoints = _emit(kind, webhook, payload)
        if settings.ALERT_EMAILS and email:
            organisation_contacts = webhook.organisation.contact_emails if webhook.organisation else ""
            recipients = contacts.merged(webhook.contact_emails, organisation_contacts)
            if recipients:
                notification.emailed_to = contacts.joined(recipients)[:1000]
                notification.email_status = Notification.EmailStatus.QUEUED
        notification.save()
        transaction.on_commit(partial(_after_commit, notification.pk))
    logger.info("Alert %s about endpoint %s: %s", kind.name, webhook_id, notification.summary)
    return notification


def _told_already(kind: Kind, webhook_id: int, now: datetime, subject_key: str) -> bool:
    told = Notification.objects.filter(webhook_id=webhook_id, kind=kind.name)
    if subject_key:
        return told.filter(subject_key=subject_key).exists()
    return told.filter(created_at__gt=now - timedelta(seconds=hookline_settings.ALERT_WINDOW)).exists()


def payload_for(webhook: Webhook, facts: dict[str, Any]) -> dict[str, Any]:
    """The event data: who the endpoint is, then the moment's facts (datetimes as ISO 8601)."""
    payload = {
        "webhook": webhook.pk,
        "name": webhook.name,
        "url": webhook.masked_url,
        "state": webhook.state,
        "organisation": webhook.organisation.slug if webhook.organisation else None,
    }
    for name, value in facts.items():
        payload[name] = value.isoformat() if isinstance(value, datetime) else value
    return payload


def summary(kind: Kind, webhook: Webhook, payload: dict[str, Any]) -> str:
    detail = payload.get("last_error") or payload.get("reason") or ""
    text = f"Endpoint “{webhook.name}” {kind.headline}"
    return (f"{text}: {detail}" if detail else text)[:500]


def _emit(kind: Kind, webhook: Webhook, payload: dict[str, Any]) -> tuple[list[str], list[int]]:
    """One event per tenant whose operations endpoints name this type: the organisation's, then the site's."""
    key = kind.event_type_for(payload)
    targets: dict[int | None, list[int]] = defaultdict(list)
    candidates = (
        Webhook.objects.receiving()
        .for_organisations({webhook.organisation_id, None})
        .exclude(pk=webhook.pk)
        .values_list("id", "organisation_id", "event_types")
    )
    for endpoint_id, organisation_id, event_types in candidates:
        if patterns.matches_any(event_types, key):
            targets[organisation_id].append(endpoint_id)
    event_ids: list[str] = []
    endpoint_ids: list[int] = []
    for tenant_id, ids in targets.items():
        organisation = webhook.organisation if tenant_id is not None else None
        event = events.emit(key, payload, organisation=organisation, endpoints=ids)
        event_ids.append(event.id)
        endpoint_ids += ids
    return event_ids, sorted(endpoint_ids)


def _after_commit(notification_id: int) -> None:
    """The signal (host code) and the email (a task: SMTP must not hold a delivery run)."""
    notification = Notification.objects.select_related("webhook", "organisation").filter(pk=notification_id).first()
    if notification is None:
        return
    kind = KINDS[notification.kind]
    if notification.signalled:
        for _receiver, response in kind.signal.send_robust(
            sender=Notification,
            webhook=notification.webhook,
            kind=kind.name,
            payload=notification.payload,
            notification=notification,
        ):
            if isinstance(response, Exception):
                logger.error("A receiver of the %s signal failed: %r", kind.name, response, exc_info=response)
    if notification.email_status == Notification.EmailStatus.QUEUED:
        try:
            enqueue_email(notification.pk)
        except Exception:  # broker down: beat's alert check sends queued emails it finds later
            logger.warning("Could not enqueue the alert email of notification %s", notification.pk, exc_info=True)


def enqueue_email(notification_id: int) -> None:
    """Send by name: this module stays below the tasks module (tasks import it, not the other way)."""
    current_app.send_task(EMAIL_TASK, args=[notification_id])
