"""Whether the safety nets run and the backlog drains: when the sweeper and the periodic check last ran, and what
waits."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError
from django.db.models import Min
from django.utils import timezone

from events.models import Event
from hookline.conf import hookline_settings

from .models import Delivery, Pulse

logger = logging.getLogger(__name__)

# A process logs its stale-job warnings at most this often (seconds): the periodic check runs every 2 s.
WARN_EVERY = 60.0
_warned_at = 0.0


def record(job: str, *, now: datetime | None = None) -> None:
    """Note that ``job`` (Pulse.Job) ran now; never fails the job itself."""
    now = now or timezone.now()
    try:
        if not Pulse.objects.filter(job=job).update(at=now):
            Pulse.objects.get_or_create(job=job, defaults={"at": now})
    except DatabaseError:  # the job's own queries will report a broken database
        logger.debug("Could not record the %s pulse", job, exc_info=True)


def expected_jobs() -> list[str]:
    """The jobs this configuration runs: the periodic check is off when WORKER_CHECK_INTERVAL is 0."""
    return [job for job in Pulse.Job.values if job != Pulse.Job.CHECK or hookline_settings.WORKER_CHECK_INTERVAL]


def stale_jobs(now: datetime | None = None) -> dict[str, float | None]:
    """Jobs that have not run within HEALTH_STALE_AFTER: job -> seconds since it last ran (None: never)."""
    now = now or timezone.now()
    last = dict(Pulse.objects.values_list("job", "at"))
    ages = {job: (now - last[job]).total_seconds() if job in last else None for job in expected_jobs()}
    return {job: age for job, age in ages.items() if age is None or age > hookline_settings.HEALTH_STALE_AFTER}


def describe_stale(job: str, age: float | None) -> str:
    label = Pulse.Job(job).label
    if age is None:
        return f"The {label} has never run."
    return f"The {label} last ran {age:.0f} s ago (expected every few seconds to minutes)."


def warn_if_stale(now: datetime | None = None) -> None:
    """Log a warning per stale job, at most every WARN_EVERY seconds per process (the periodic check calls it)."""
    global _warned_at
    if time.monotonic() - _warned_at < WARN_EVERY:
        return
    _warned_at = time.monotonic()
    for job, age in stale_jobs(now).items():
        logger.warning("Hookline health: %s", describe_stale(job, age))


@dataclass(frozen=True)
class Report:
    """``manage.py hookline_health``'s answer: the age of each job, the backlog and its oldest due item."""

    checked_at: datetime
    last_run: dict[str, float | None]  # job -> seconds since it last ran (None: never)
    undispatched_events: int
    oldest_undispatched_seconds: float | None
    due_deliveries: int
    oldest_due_seconds: float | None
    problems: list[str]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked_at": self.checked_at.isoformat(),
            "last_sweep_seconds_ago": _round(self.last_run.get(Pulse.Job.SWEEP)),
            "last_check_seconds_ago": _round(self.last_run.get(Pulse.Job.CHECK)),
            "undispatched_events": self.undispatched_events,
            "oldest_undispatched_seconds": _round(self.oldest_undispatched_seconds),
            "due_deliveries": self.due_deliveries,
            "oldest_due_seconds": _round(self.oldest_due_seconds),
            "stale_after_seconds": hookline_settings.HEALTH_STALE_AFTER,
            "problems": self.problems,
        }


def report(now: datetime | None = None) -> Report:
    """Read the pulses and the backlog (counts over the whole outbox and delivery log: for a health check, not a
    page)."""
    now = now or timezone.now()
    last = dict(Pulse.objects.values_list("job", "at"))
    last_run = {job: (now - last[job]).total_seconds() if job in last else None for job in Pulse.Job.values}
    waiting = Event.objects.undispatched()
    due = Delivery.objects.pending().filter(next_attempt_at__lte=now)
    oldest_event = waiting.aggregate(at=Min("created_at"))["at"]
    oldest_due = due.aggregate(at=Min("next_attempt_at"))["at"]
    oldest_event_age = (now - oldest_event).total_seconds() if oldest_event else None
    oldest_due_age = (now - oldest_due).total_seconds() if oldest_due else None
    limit = hookline_settings.HEALTH_STALE_AFTER
    problems = [describe_stale(job, age) for job, age in stale_jobs(now).items()]
    if oldest_event_age is not None and oldest_event_age > limit:
        problems.append(f"An event has waited {oldest_event_age:.0f} s to be fanned out.")
    if oldest_due_age is not None and oldest_due_age > limit:
        problems.append(f"A delivery has been due for {oldest_due_age:.0f} s.")
    return Report(
        checked_at=now,
        last_run=last_run,
        undispatched_events=waiting.count(),
        oldest_undispatched_seconds=oldest_event_age,
        due_deliveries=due.count(),
        oldest_due_seconds=oldest_due_age,
        problems=problems,
    )


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
