"""Retention: delete finished deliveries (with their attempts), spent events and old alerts in short, bounded batches.

Each batch is one transaction that deletes at most PRUNE_BATCH deliveries and their attempts by
primary key, so locks last milliseconds and the delivery path never waits long (measured in
docs/performance.md, "Retention"). A pending delivery is never deleted: the DELETE repeats the
status condition, so a delivery redelivered between the SELECT and the DELETE stays.
Apps above this one prune their own spent rows through ``hookline_prune()`` on their AppConfig
(the portal's used links), so that one beat task and one command keep every table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from events.models import Event
from hookline.conf import hookline_settings

from . import metrics
from .alerts.models import Notification
from .models import Attempt, Delivery

# Rows of events deleted per statement (an event row is small and has no children by then).
EVENT_BATCH = 5000


@dataclass
class PruneResult:
    deliveries: int = 0
    attempts: int = 0
    events: int = 0
    notifications: int = 0
    others: dict[str, int] = field(default_factory=dict)  # rows deleted by the apps' hookline_prune(), by table
    batches: int = 0
    longest_batch_ms: float = 0.0
    finished: bool = True  # False when the time budget ran out first (the next run continues)
    cutoffs: dict[str, datetime | None] = field(default_factory=dict)


def cutoffs(now: datetime | None = None) -> dict[str, datetime | None]:
    """The oldest creation time each kind keeps; None = kept forever (a period of 0)."""
    now = now or timezone.now()

    def before(days: float) -> datetime | None:
        return now - timedelta(days=days) if days > 0 else None

    return {
        Delivery.Status.SUCCEEDED: before(hookline_settings.RETENTION_SUCCEEDED_DAYS),
        Delivery.Status.CANCELLED: before(hookline_settings.RETENTION_SUCCEEDED_DAYS),
        Delivery.Status.FAILED: before(hookline_settings.RETENTION_FAILED_DAYS),
        "events": before(hookline_settings.RETENTION_EVENTS_DAYS),
        "notifications": before(hookline_settings.RETENTION_NOTIFICATIONS_DAYS),
    }


def prune(
    *, batch: int | None = None, budget: float = 600.0, pause: float = 0.0, now: datetime | None = None
) -> PruneResult:
    """Delete what the retention periods no longer keep, batch by batch, for at most ``budget`` seconds.

    ``pause`` sleeps between batches (gives the database's other writers room on a busy system).
    """
    batch = batch or hookline_settings.PRUNE_BATCH
    result = PruneResult(cutoffs=cutoffs(now))
    deadline = time.monotonic() + budget
    for status in (Delivery.Status.SUCCEEDED, Delivery.Status.CANCELLED, Delivery.Status.FAILED):
        cutoff = result.cutoffs[status]
        while cutoff is not None:
            if time.monotonic() > deadline:
                result.finished = False
                return result
            if _timed(result, _prune_deliveries, status, cutoff, batch) < batch:
                break
            if pause:
                time.sleep(pause)
    for kind, step in (("events", _prune_events), ("notifications", _prune_notifications)):
        cutoff = result.cutoffs[kind]
        while cutoff is not None and result.finished:
            if time.monotonic() > deadline:
                result.finished = False
                break
            if _timed(result, step, cutoff, EVENT_BATCH) < EVENT_BATCH:
                break
            if pause:
                time.sleep(pause)
    for app_step in _app_steps():
        while result.finished:
            if time.monotonic() > deadline:
                result.finished = False
                break
            if _timed(result, _prune_app, app_step, now or timezone.now(), batch) < batch:
                break
            if pause:
                time.sleep(pause)
    return result


def _app_steps() -> list[Callable[..., dict[str, int]]]:
    """Each installed app's ``hookline_prune(*, now, batch) -> {table: rows deleted}``: one batch per call."""
    return [config.hookline_prune for config in apps.get_app_configs() if hasattr(config, "hookline_prune")]


def _prune_app(result: PruneResult, step: Callable[..., dict[str, int]], now: datetime, batch: int) -> int:
    deleted = step(now=now, batch=batch)
    for table, rows in deleted.items():
        result.others[table] = result.others.get(table, 0) + rows
        metrics.pruned(table, rows)
    return max(deleted.values(), default=0)


def _timed(result: PruneResult, step: Callable[..., int], *args: Any) -> int:
    started = time.monotonic()
    deleted = step(result, *args)
    result.batches += 1
    result.longest_batch_ms = max(result.longest_batch_ms, (time.monotonic() - started) * 1000)
    return deleted


def _prune_deliveries(result: PruneResult, status: str, cutoff: datetime, batch: int) -> int:
    """One batch: the oldest ``batch`` deliveries of ``status`` completed before ``cutoff``, attempts first."""
    # completed_at <= cutoff implies created_at <= cutoff: the (status, created_at) index bounds the scan.
    ids = list(
        Delivery.objects.filter(status=status, created_at__lt=cutoff, completed_at__lt=cutoff)
        .order_by("-created_at")
        .values_list("id", flat=True)[:batch]
    )
    if not ids:
        return 0
    with transaction.atomic():
        # Lock exactly these rows, still in their final status: a redelivery (back to pending) wins or waits.
        kept = list(Delivery.objects.filter(id__in=ids, status=status).select_for_update().values_list("id", flat=True))
        attempts = _raw_delete(Attempt.objects.filter(delivery_id__in=kept)) if kept else 0
        deliveries = _raw_delete(Delivery.objects.filter(id__in=kept)) if kept else 0
    result.deliveries += deliveries
    result.attempts += attempts
    metrics.pruned("attempts", attempts)
    metrics.pruned("deliveries", deliveries)
    return len(ids)


def _prune_events(result: PruneResult, cutoff: datetime, batch: int) -> int:
    """Events older than ``cutoff`` that were fanned out and have no delivery left."""
    ids = list(
        Event.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False)
        .filter(~Exists(Delivery.objects.filter(event=OuterRef("pk"))))
        .order_by()
        .values_list("id", flat=True)[:batch]
    )
    if not ids:
        return 0
    with transaction.atomic():
        # Fan-out never adds deliveries to a dispatched event, but a redelivery reads it: check again.
        deleted = _raw_delete(
            Event.objects.filter(id__in=ids).filter(~Exists(Delivery.objects.filter(event=OuterRef("pk"))))
        )
    result.events += deleted
    metrics.pruned("events", deleted)
    return len(ids)


def _prune_notifications(result: PruneResult, cutoff: datetime, batch: int) -> int:
    """Alerts older than ``cutoff``, except those whose email is still to go (beat sends stranded ones)."""
    unsent = (Notification.EmailStatus.QUEUED, Notification.EmailStatus.SENDING)
    ids = list(
        Notification.objects.filter(created_at__lt=cutoff)
        .exclude(email_status__in=unsent)
        .order_by()
        .values_list("id", flat=True)[:batch]
    )
    if not ids:
        return 0
    # A row is deleted only if its email did not start meanwhile (mail.send claims it by status).
    deleted = _raw_delete(Notification.objects.filter(id__in=ids).exclude(email_status__in=unsent))
    result.notifications += deleted
    metrics.pruned("notifications", deleted)
    return len(ids)


def _raw_delete(queryset: QuerySet[Any]) -> int:
    """DELETE … WHERE …, without Django's collector (which would SELECT every row to cascade in Python).

    Safe here: attempts go first, events only once no delivery refers to them, and nothing refers to a notification.
    """
    deleted: int = queryset._raw_delete(queryset.db)  # private API: no bulk collector
    return deleted
