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
            "reasons": health.failure_reasons(webhook, since=now - WEEK),
        },
    )
