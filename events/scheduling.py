"""Scheduled events: cron arithmetic (Celery's crontab), payload functions, and the beat check that emits due runs.

    @events.schedule_payload("usage.daily")
    def usage_payload(scheduled_at, schedule) -> dict:
        return {"day": scheduled_at.date().isoformat()}

Each run is an ordinary ``emit()`` with the idempotency key ``schedule:<id>:<scheduled UTC time>``, and
the schedule row is locked while it runs: two beats never emit the same run twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hookline.conf import hookline_settings
from hookline.exceptions import HooklineError

from . import catalog
from .models import Event, ScheduledEvent

logger = logging.getLogger(__name__)

PayloadFunction = Callable[[datetime, ScheduledEvent], dict[str, Any]]
_payload_functions: dict[str, PayloadFunction] = {}
MAX_OCCURRENCES = 2000  # per check: a day of a once-a-minute schedule


def schedule_payload(name: str) -> Callable[[PayloadFunction], PayloadFunction]:
    """Register a payload function under ``name`` (chosen in the admin and the API); a decorator."""

    def register(function: PayloadFunction) -> PayloadFunction:
        _payload_functions[name] = function
        return function

    return register


def payload_function_names() -> list[str]:
    return sorted(_payload_functions)


# --- cron arithmetic --------------------------------------------------------------------------

CRON_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def parse_cron(expression: str) -> crontab:
    """``minute hour day-of-month month day-of-week`` as Celery's crontab; ValueError says what is wrong."""
    parts = (expression or "").split()
    if len(parts) != 5:
        raise ValueError(
            f"{expression!r}: a cron expression has 5 fields (minute hour day-of-month month day-of-week)."
        )
    for name, text, (low, high) in zip(CRON_FIELDS, parts, CRON_RANGES, strict=True):
        for step in re.findall(r"/(\d+)", text):
            if int(step) > high - low:  # crontab keeps the first value only: "*/999" would run every hour
                raise ValueError(
                    f"{expression!r}: the step /{step} of {name} is larger than its range "
                    f"({low}-{high}); a step is at most {high - low}."
                )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    try:
        return crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except Exception as exc:  # crontab's parser raises ValueError and friends with a useful message
        raise ValueError(f"{expression!r}: {exc}") from None


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (use an IANA name such as Asia/Tokyo or UTC).") from None


def next_after(schedule: crontab, zone: ZoneInfo, moment: datetime) -> datetime:
    """The first scheduled time strictly after ``moment`` (UTC), the crontab read in ``zone``'s wall time."""
    # crontab also reads "now"; ours is the moment asked about (celery-types does not declare nowfun)
    schedule.nowfun = lambda: moment  # type: ignore[attr-defined]
    start, delta, _ = schedule.remaining_delta(moment.astimezone(zone), tz=zone)
    following: datetime = (start + delta).replace(tzinfo=zone)  # ffwd replaces wall-clock fields: re-read the offset
    return following.astimezone(UTC)


def occurrences(schedule: crontab, zone: ZoneInfo, first: datetime, until: datetime) -> list[datetime]:
    """Scheduled times from ``first`` (itself one) up to ``until``.

    After a long downtime of a frequent schedule (over MAX_OCCURRENCES runs) only the first run and the
    last day's are listed: what is missed is skipped or caught up once, and a day has at most 1,440 runs.
    """
    times: list[datetime] = []
    moment, restarted = first, False
    while moment <= until:
        if len(times) >= MAX_OCCURRENCES and not restarted:
            times, restarted = times[:1], True
            moment = next_after(schedule, zone, max(first, until - timedelta(days=1)))
            continue
        times.append(moment)
        moment = next_after(schedule, zone, moment)
    return times


# --- validation -------------------------------------------------------------------------------


def clean_schedule(fields: dict[str, Any]) -> dict[str, Any]:
    """The admin's and the API's check: raises ValidationError({field: [error]}) with the reason."""
    try:
        parse_cron(fields.get("cron", ""))
    except ValueError as exc:
        raise ValidationError({"cron": str(exc)}) from None
    try:
        parse_timezone(fields.get("timezone") or "UTC")
    except ValueError as exc:
        raise ValidationError({"timezone": str(exc)}) from None
    if catalog.lookup(fields.get("event_type", "")) is None:
        raise ValidationError(
            {"event_type": f"Unknown event type {fields.get('event_type')!r}: add it to the catalog first."}
        )
    function, payload = fields.get("payload_function") or "", fields.get("payload")
    if function and function not in _payload_functions:
        known = ", ".join(payload_function_names()) or "none is registered"
        raise ValidationError({"payload_function": f"No payload function {function!r} (registered: {known})."})
    if function and payload:
        raise ValidationError({"payload": "Choose a fixed payload or a payload function, not both."})
    if not function:
        from .emitting import validate  # the payload must pass what emit() checks, now rather than at 04:00

        try:
            validate(fields["event_type"], payload if payload is not None else {})
        except HooklineError as exc:
            raise ValidationError({"payload": str(exc)}) from None
    return fields


def save_schedule(schedule: ScheduledEvent, now: datetime | None = None) -> ScheduledEvent:
    """Save a checked schedule; its next run is counted from now (the admin and the API call this)."""
    now = now or timezone.now()
    schedule.next_run_at = next_after(parse_cron(schedule.cron), parse_timezone(schedule.timezone), now)
    schedule.save()
    return schedule


# --- the beat check ---------------------------------------------------------------------------


@dataclass
class CheckResult:
    emitted: list[str] = field(default_factory=list)  # event ids
    skipped: int = 0  # missed runs not emitted


def run_due(now: datetime | None = None) -> CheckResult:
    """Emit every due run of every enabled schedule; safe with several beats running at once."""
    now = now or timezone.now()
    result = CheckResult()
    for schedule_id in ScheduledEvent.objects.due(now).values_list("id", flat=True):
        try:
            _run_one(schedule_id, now, result)
        except Exception:  # one broken schedule (a payload function raising) must not stop the others
            logger.exception("Scheduled event %s failed; it is tried again at the next check", schedule_id)
    return result


def _run_one(schedule_id: int, now: datetime, result: CheckResult) -> None:
    with transaction.atomic():
        # Another beat holding the row is running it: skip it rather than wait and emit it twice.
        schedule = ScheduledEvent.objects.select_for_update(skip_locked=True).due(now).filter(id=schedule_id).first()
        if schedule is None:
            return
        cron, zone = parse_cron(schedule.cron), parse_timezone(schedule.timezone)
        first = cast(datetime, schedule.next_run_at)  # set: due() found it at or before now
        times = occurrences(cron, zone, first, now)
        grace = timedelta(seconds=hookline_settings.SCHEDULE_GRACE)
        on_time = [moment for moment in times if now - moment <= grace]
        missed = [moment for moment in times if now - moment > grace]
        chosen = on_time
        if missed and schedule.missed_runs == ScheduledEvent.MissedRuns.CATCH_UP_ONCE:
            chosen = [missed[-1], *on_time]
        result.skipped += len(times) - len(chosen)
        for moment in chosen:
            event = _emit_run(schedule, moment)
            schedule.last_event_id = event.id
            result.emitted.append(event.id)
        schedule.last_run_at = times[-1]
        schedule.next_run_at = next_after(cron, zone, max(times[-1], now))
        schedule.save(update_fields=["last_run_at", "next_run_at", "last_event_id", "updated_at"])


def _emit_run(schedule: ScheduledEvent, moment: datetime) -> Event:
    from .emitting import emit

    if schedule.payload_function:
        payload = _payload_functions[schedule.payload_function](
            moment.astimezone(parse_timezone(schedule.timezone)), schedule
        )
    else:
        payload = schedule.payload or {}
    key = f"schedule:{schedule.pk}:{moment.astimezone(UTC).isoformat()}"
    return emit(schedule.event_type, payload, organisation=schedule.organisation, idempotency_key=key)
