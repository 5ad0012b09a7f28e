"""The sweeper: re-enqueues what a broker outage, a lost message or a killed worker left behind."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events.conf import hookline_settings
from events.models import Event

from . import fanout
from .models import Delivery


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
    stale = now - timedelta(seconds=hookline_settings.SWEEP_AFTER)
    event_ids = list(
        Event.objects.undispatched().filter(created_at__lt=stale).order_by("created_at").values_list("id", flat=True)[:limit]
    )
    fanned_out = fanout.fan_out(event_ids) if event_ids else []
    with transaction.atomic():
        overdue = list(
            Delivery.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                status=Delivery.Status.PENDING,
                next_attempt_at__lt=stale,
            )
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        # Moving the due time to now keeps the next sweep from enqueueing them again at once.
        Delivery.objects.filter(id__in=overdue).update(next_attempt_at=now)
    return SweepResult(events_fanned_out=len(event_ids), deliveries_enqueued=fanned_out + overdue)
