"""The sweeper: re-enqueues what a broker outage, a lost message or a killed worker left behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from events.models import Event
from hookline.conf import hookline_settings

from . import fanout, lifecycle, metrics, pulse
from .models import Delivery, Pulse

# Deliveries locked per transaction: a worker claiming one of them waits for that commit, so a
# sweep over thousands commits in short steps (one 4,000-row step held claims up to 1.2 s).
HAND_OUT_BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    events_fanned_out: int
    deliveries_enqueued: list[int]


def sweep(*, limit: int = 5000) -> SweepResult:
    """Fan out stranded events and hand stranded deliveries back to the queue.

    Several sweepers may run at once: events are locked by fan-out, deliveries with
    SKIP LOCKED and pushed forward in time, and the deliver task's claim prevents double sends.
    """
    now = timezone.now()
    pulse.record(Pulse.Job.SWEEP, now=now)
    stale = now - timedelta(seconds=hookline_settings.SWEEP_AFTER)
    event_ids = list(
        Event.objects.undispatched()
        .filter(created_at__lt=stale)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    fanned_out = fanout.fan_out(event_ids) if event_ids else []
    overdue: list[int] = []
    while len(overdue) < limit:
        batch = _hand_out(now, stale, min(HAND_OUT_BATCH, limit - len(overdue)))
        overdue += batch
        if len(batch) < HAND_OUT_BATCH:
            break
    metrics.sweeper_ran(len(event_ids), len(overdue))
    return SweepResult(events_fanned_out=len(event_ids), deliveries_enqueued=fanned_out + overdue)


def _hand_out(now: datetime, stale: datetime, size: int) -> list[int]:
    """Lock up to ``size`` stranded deliveries (skipping locked ones) and move their due time to now."""
    with transaction.atomic():
        overdue = list(
            Delivery.objects.stranded(now, stale)
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:size]
        )
        # Moving the due time to now keeps the next sweep from enqueueing them again at once.
        lifecycle.reschedule(Delivery.objects.filter(id__in=overdue), now)
    return overdue
