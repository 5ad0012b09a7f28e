"""Per-endpoint delivery statistics as annotations: last delivery and the success rate of a recent window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from hooks.models import Webhook

from .models import Delivery


def with_delivery_stats(webhooks: QuerySet[Webhook], *, since: datetime) -> QuerySet[Webhook]:
    """Annotate each endpoint with ``last_delivery_status``, ``last_delivery_code``, ``last_delivery_at``,
    and, over the deliveries created since ``since``, ``finished_recently`` (succeeded or failed)
    and ``succeeded_recently``.

    Correlated subqueries, each an index range scan of ``delivery_webhook_recent``: one query for a
    whole page of endpoints, whatever the size of the log.
    """
    newest = Delivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at", "-id")
    window = Delivery.objects.filter(webhook=OuterRef("pk"), created_at__gte=since).order_by().values("webhook")
    finished = (Delivery.Status.SUCCEEDED, Delivery.Status.FAILED)
    return webhooks.annotate(
        last_delivery_status=Subquery(newest.values("status")[:1]),
        last_delivery_code=Subquery(newest.values("last_status_code")[:1]),
        last_delivery_at=Subquery(newest.values("created_at")[:1]),
        finished_recently=_count(window.filter(status__in=finished)),
        succeeded_recently=_count(window.filter(status=Delivery.Status.SUCCEEDED)),
    )


def _count(grouped: QuerySet[Delivery, Any]) -> Coalesce:
    return Coalesce(Subquery(grouped.annotate(n=Count("id")).values("n"), output_field=IntegerField()), Value(0))
