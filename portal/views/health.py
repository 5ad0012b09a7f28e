"""An endpoint's health at a glance: success rate and attempt duration per day, failures by reason."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from console.health import charts
from deliveries import health

from ..access import portal_view
from .endpoints import get_endpoint

WEEK = timedelta(days=7)
CHART_REASONS = 8


@portal_view
def endpoint_health(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    now = timezone.now()
    days = health.endpoint_days(webhook, now=now)
    labels = [timezone.localtime(day.day).strftime("%m-%d") for day in days]
    rate = charts.Series(
        "rate", _("success rate"), [None if day.success_rate is None else day.success_rate * 100 for day in days]
    )
    latency = [charts.Series(key, key, [getattr(day.latency, key) for day in days]) for key in ("p50", "p90")]
    finished = sum(day.finished for day in days)
    reasons = health.failure_reasons(webhook, since=now - WEEK)
    return render(
        request,
        "portal/endpoint_health.html",
        {
            "endpoint": webhook,
            "rate_chart": charts.lines(
                labels, [rate], title=_("Success rate per day"), top=100, fmt=lambda value: f"{value:.0f} %"
            ),
            "latency_chart": charts.lines(
                labels, latency, title=_("Attempt duration per day"), fmt=charts.milliseconds
            ),
            "latency_legend": charts.legend(latency),
            "finished": finished,
            "succeeded": sum(day.counts.get("succeeded", 0) for day in days),
            "reasons": reasons,
            "reasons_chart": reasons_chart(reasons) if reasons else "",
        },
    )


def reasons_chart(reasons: list[health.FailureReason]):
    """The CHART_REASONS most frequent reasons as bars (the rest summed as one); the table below lists them all."""
    bars = [(reason.reason, reason.count) for reason in reasons[:CHART_REASONS]]
    rest = sum(reason.count for reason in reasons[CHART_REASONS:])
    if rest:
        bars.append((_("other reasons"), rest))
    # 560 units wide: about the column's width, so the labels render near their CSS size.
    return charts.bars(bars, title=_("Failed attempts by reason"), width=560)
