"""Health at a glance in the admin: the Hookline dashboard and one endpoint's last 7 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.admin import ModelAdmin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from deliveries import health
from deliveries.models import Attempt, Delivery
from events.models import Event
from hooks.models import Webhook

from . import charts

WEEK = timedelta(days=7)
HALF = 440  # the width of a chart that shares its row, so that its text keeps the same size
OUTCOME_SERIES = [("succeeded", "succeeded"), ("failed", "failed"), ("pending", "pending"), ("cancelled", "cancelled")]


def dashboard(request: HttpRequest, model_admin: ModelAdmin[Any]) -> TemplateResponse:
    """Deliveries per hour by outcome, latency percentiles, the endpoints failing most, the backlog."""
    user, now = request.user, timezone.now()
    deliveries = Delivery.objects.visible_to(user)
    attempts = Attempt.objects.all() if user.is_superuser else Attempt.objects.filter(delivery__in=deliveries)
    hours = health.hourly_outcomes(deliveries, now=now)
    since = hours[0][0]  # the chart's first hour: every figure on the page covers the same window
    series = [charts.Series(key, label, [counts.get(key, 0) for _, counts in hours]) for key, label in OUTCOME_SERIES]
    totals = {
        key: sum(value or 0 for value in s.values)
        for key, s in zip((key for key, _ in OUTCOME_SERIES), series, strict=True)
    }
    finished = totals["succeeded"] + totals["failed"]
    labels = [timezone.localtime(hour).strftime("%H:00") for hour, _ in hours]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Hookline dashboard",
        "hourly_chart": charts.stacked_bars(
            labels, series, title="Deliveries per hour by outcome, last 24 hours", every=3
        ),
        "legend": charts.legend(series),
        "totals": totals,
        "total": sum(totals.values()),
        "success_rate": totals["succeeded"] / finished if finished else None,
        "attempt_ms": _in_ms(health.attempt_durations(attempts)),
        "latency_s": health.delivery_latencies(deliveries, since=since),
        "failing": health.failing_endpoints(deliveries, since=since),
        "backlog": health.backlog(deliveries, Event.objects.visible_to(user), now=now),
        "states": health.endpoints_by_state(Webhook.objects.visible_to(user)),
        "sample": health.SAMPLE,
    }
    return TemplateResponse(request, "admin/hookline/dashboard.html", context)


def endpoint_health(request: HttpRequest, model_admin: ModelAdmin[Any], webhook: Webhook) -> TemplateResponse:
    """Success rate and latency per day over the last 7 days, and recent failures grouped by reason."""
    now = timezone.now()
    days = health.endpoint_days(webhook, now=now)
    labels = [timezone.localtime(day.day).strftime("%a %d") for day in days]
    outcome_series = [
        charts.Series(key, label, [day.counts.get(key, 0) for day in days]) for key, label in OUTCOME_SERIES
    ]
    rate = charts.Series(
        "rate", "success rate", [None if day.success_rate is None else day.success_rate * 100 for day in days]
    )
    # p50 and p90: one timeout's p99 would flatten the other two lines (the dashboard shows p99).
    latency = [charts.Series(key, key, [getattr(day.latency, key) for day in days]) for key in ("p50", "p90")]
    finished = sum(day.finished for day in days)
    succeeded = sum(day.counts.get("succeeded", 0) for day in days)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": webhook,
        "title": f"Health of “{webhook.name}”",
        "rate_chart": charts.lines(
            labels, [rate], title="Success rate per day, last 7 days", top=100, width=HALF, fmt=lambda v: f"{v:.0f} %"
        ),
        "volume_chart": charts.stacked_bars(labels, outcome_series, title="Deliveries per day by outcome"),
        "volume_legend": charts.legend(outcome_series),
        "latency_chart": charts.lines(
            labels, latency, title="Attempt duration per day", width=HALF, fmt=charts.milliseconds
        ),
        "latency_legend": charts.legend(latency),
        "success_rate": succeeded / finished if finished else None,
        "finished": finished,
        "succeeded": succeeded,
        "reasons": health.failure_reasons(webhook, since=now - WEEK),
        "failure_sample": health.FAILURE_SAMPLE,
    }
    return TemplateResponse(request, "admin/hookline/endpoint_health.html", context)


def _in_ms(durations: health.Percentiles) -> dict[str, str] | None:
    """Percentiles as text: "54 ms", "10 s"."""
    if durations.p50 is None:
        return None
    return {name: charts.milliseconds(getattr(durations, name)) for name in ("p50", "p90", "p99")}
