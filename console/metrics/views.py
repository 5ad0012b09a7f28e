"""GET /metrics: every Hookline metric in Prometheus' text format, for superusers or HOOKLINE["METRICS_TOKEN"]."""

from __future__ import annotations

import hmac

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from deliveries import metrics
from hookline.conf import hookline_settings


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Superuser sessions may read it; Prometheus sends ``Authorization: Bearer <METRICS_TOKEN>``.

    Not every staff member: the metrics span all organisations (endpoint names included), and staff
    who are not superusers see only their own.
    """
    if not (_superuser(request) or _bearer_ok(request)):
        response = HttpResponse(
            "Authentication required: a superuser session or the metrics bearer token.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="hookline-metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def _superuser(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_superuser)


def _bearer_ok(request: HttpRequest) -> bool:
    token = hookline_settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
