"""Health queries for the dashboard, the endpoint health page and /metrics: each an indexed range scan or sample.

Sizes stay bounded on a log of millions: hourly and daily counts read one index range (the last 24 h or
7 days), percentiles come from the newest few thousand rows, the backlog from the partial indexes on
pending deliveries and undispatched events (docs/performance.md, "Admin dashboard").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from events.models import Event, EventQuerySet
from hooks.models import Webhook

from .models import Attempt, Delivery, DeliveryQuerySet

# Percentiles are read from this many newest rows: enough for p99, cheap on any log size.
SAMPLE = 2000
TOP_FAILING = 8
FAILURE_SAMPLE = 500
DAY_SAMPLE = 500
FINISHED = (Delivery.Status.SUCCEEDED, Delivery.Status.FAILED)
FAILING = Q(status=Delivery.Status.FAILED) | Q(status=Delivery.Status.PENDING, attempts__gt=0)


@dataclass(frozen=True)
class Backlog:
    undispatched_events: int
    due_deliveries: int
    pending_deliveries: int
    oldest_seconds: float


@dataclass(frozen=True)
class Percentiles:
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    sample: int = 0


@dataclass
class Day:
    day: datetime
    counts: dict[str, int] = field(default_factory=dict)
    latency: Percentiles = Percentiles()

    @property
    def finished(self) -> int:
        return sum(self.counts.get(status, 0) for status in FINISHED)

    @property
    def success_rate(self) -> float | None:
        return self.counts.get(Delivery.Status.SUCCEEDED, 0) / self.finished if self.finished else None


@dataclass(frozen=True)
class FailureReason:
    reason: str
    count: int
    last_seen: datetime
    example_delivery: int


def backlog(
    deliveries: DeliveryQuerySet | None = None, events: EventQuerySet | None = None, now: datetime | None = None
) -> Backlog:
    """What waits: events not fanned out, deliveries due now or later, and how long the oldest has waited."""
    now = now or timezone.now()
    deliveries = (Delivery.objects.all() if deliveries is None else deliveries).order_by()
    events = (Event.objects.all() if events is None else events).order_by()
    undispatched = events.undispatched().aggregate(n=Count("id"), oldest=Min("created_at"))
    pending = deliveries.pending().aggregate(
        n=Count("id"),
        due=Count("id", filter=Q(next_attempt_at__lte=now)),
        oldest=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now)),
    )
    oldest = [when for when in (undispatched["oldest"], pending["oldest"]) if when is not None]
    return Backlog(
        undispatched_events=undispatched["n"],
        due_deliveries=pending["due"],
        pending_deliveries=pending["n"],
        oldest_seconds=max((now - min(oldest)).total_seconds(), 0.0) if oldest else 0.0,
    )


def endpoints_by_state(webhooks: QuerySet[Webhook] | None = None) -> dict[str, int]:
    webhooks = Webhook.objects.all() if webhooks is None else webhooks
    counts = dict(webhooks.order_by().values_list("state").annotate(n=Count("id")))
    return {state: counts.get(state, 0) for state in Webhook.State.values}


def endpoints_by_breaker() -> dict[str, int]:
    """Endpoints by circuit-breaker state (closed, open, half-open; deliveries/control.py), and paused ones."""
    # An endpoint without a runtime row (deliveries.EndpointRuntime) is closed and not paused.
    counts = dict(Webhook.objects.order_by().values_list("runtime__breaker_state").annotate(n=Count("id")))
    result = {state: counts.get(state, 0) for state in ("closed", "open", "half-open")}
    result["closed"] += counts.get(None, 0)
    result["paused"] = Webhook.objects.filter(runtime__paused=True).count()
    return result


def retrying_by_endpoint(deliveries: DeliveryQuerySet | None = None) -> list[tuple[int, str, int]]:
    """(endpoint id, name, pending deliveries that failed at least once), most first."""
    deliveries = Delivery.objects.all() if deliveries is None else deliveries
    rows = (
        deliveries.pending()
        .filter(attempts__gt=0)
        .order_by()
        .values("webhook", "webhook__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:TOP_FAILING]
    )
    return [(row["webhook"], row["webhook__name"], row["n"]) for row in rows]


def hourly_outcomes(
    deliveries: DeliveryQuerySet, *, hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, dict[str, int]]]:
    """Deliveries created in each of the last ``hours`` hours, by status (oldest hour first, empty hours kept)."""
    now = now or timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    rows = (
        deliveries.filter(created_at__gte=start)
        .order_by()
        .annotate(hour=TruncHour("created_at"))
        .values_list("hour", "status")
        .annotate(n=Count("id"))
    )
    buckets: dict[datetime, dict[str, int]] = {start + timedelta(hours=n): {} for n in range(hours)}
    for hour, status, number in rows:
        buckets.setdefault(hour, {})[status] = number
    return sorted(buckets.items())


def percentiles(values: list[float]) -> Percentiles:
    if not values:
        return Percentiles()
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]

    return Percentiles(at(0.5), at(0.9), at(0.99), len(ordered))


def attempt_durations(attempts: QuerySet[Attempt]) -> Percentiles:
    """Attempt duration percentiles (ms) over the newest SAMPLE attempts."""
    return percentiles(list(attempts.order_by("-id").values_list("duration_ms", flat=True)[:SAMPLE]))


def delivery_latencies(deliveries: DeliveryQuerySet, *, since: datetime) -> Percentiles:
    """Emit-to-delivered percentiles (seconds) over the newest SAMPLE successful deliveries since ``since``."""
    rows = (
        deliveries.filter(status=Delivery.Status.SUCCEEDED, created_at__gte=since)
        .order_by("-created_at")
        .values_list("completed_at", "event__created_at")[:SAMPLE]
    )
    return percentiles([(done - emitted).total_seconds() for done, emitted in rows if done and emitted])


def failing_endpoints(
    deliveries: DeliveryQuerySet, *, since: datetime, limit: int = TOP_FAILING
) -> list[dict[str, Any]]:
    """The endpoints with most failed or retrying deliveries created since ``since``, with their totals.

    Two queries: the failing ones only (the status indexes find them), then the totals of the few
    endpoints listed (their (webhook, created_at) index ranges); never a GROUP BY over every delivery.
    """
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in deliveries.filter(FAILING, created_at__gte=since)
        .order_by()
        .values("webhook", "webhook__name", "webhook__state")
        .annotate(failing=Count("id"))
        .order_by("-failing")[:limit]
    ]
    totals = (
        dict(
            deliveries.filter(created_at__gte=since, webhook__in=[row["webhook"] for row in rows])
            .order_by()
            .values_list("webhook")
            .annotate(n=Count("id"))
        )
        if rows
        else {}
    )
    for row in rows:
        row["total"] = totals.get(row["webhook"], row["failing"])
    return rows


def endpoint_days(webhook: Webhook, *, days: int = 7, now: datetime | None = None) -> list[Day]:
    """Per day of the last ``days``: deliveries by status and attempt duration percentiles (ms).

    Durations come from the newest DAY_SAMPLE deliveries of each day: one short index range per day.
    """
    now = now or timezone.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    result = {start + timedelta(days=n): Day(start + timedelta(days=n)) for n in range(days)}
    recent = Delivery.objects.filter(webhook=webhook, created_at__gte=start).order_by()
    for day, status, number in (
        recent.annotate(day=TruncDay("created_at")).values_list("day", "status").annotate(n=Count("id"))
    ):
        result.setdefault(day, Day(day)).counts[status] = number
    for day, entry in result.items():
        if not entry.counts:
            continue
        sampled = (
            Delivery.objects.filter(webhook=webhook, created_at__gte=day, created_at__lt=day + timedelta(days=1))
            .order_by("-created_at")
            .values("id")[:DAY_SAMPLE]
        )
        entry.latency = percentiles(
            list(Attempt.objects.filter(delivery__in=sampled).values_list("duration_ms", flat=True))
        )
    return [result[day] for day in sorted(result)]


def failure_reasons(webhook: Webhook, *, since: datetime) -> list[FailureReason]:
    """The newest FAILURE_SAMPLE failed attempts of the endpoint since ``since``, grouped by reason."""
    # Only deliveries that can hold a failed attempt: not succeeded, or succeeded after a retry.
    failing = Q(delivery__total_attempts__gt=1) | ~Q(delivery__status=Delivery.Status.SUCCEEDED)
    rows = (
        Attempt.objects.filter(failing, delivery__webhook=webhook, delivery__created_at__gte=since, succeeded=False)
        .order_by("-delivery__created_at", "-number")
        .values_list("error", "response_status", "created_at", "delivery_id")[:FAILURE_SAMPLE]
    )
    counts: Counter[str] = Counter()
    newest: dict[str, tuple[datetime, int]] = {}
    for error, status, sent, delivery_id in rows:
        reason = reason_of(error, status)
        counts[reason] += 1
        if reason not in newest or sent > newest[reason][0]:
            newest[reason] = (sent, delivery_id)
    return [FailureReason(reason, number, *newest[reason]) for reason, number in counts.most_common()]


def reason_of(error: str, status: int | None) -> str:
    """One failure reason: the transport's text, or the HTTP status with its phrase."""
    if status is not None and not error:
        try:
            return f"HTTP {status} {HTTPStatus(status).phrase}"
        except ValueError:
            return f"HTTP {status}"
    return error or "unknown error"
