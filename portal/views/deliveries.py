"""The delivery log: filters, the request/response inspector, redeliver."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.deliveries.inspector import attempt_views
from deliveries import services as deliveries
from deliveries.exceptions import EndpointNotReceiving
from deliveries.models import Delivery
from hooks.hookline_events import WEBHOOK_TEST

from ..access import portal_view
from ..forms import DeliveryFilterForm
from .endpoints import catalog

PAGE_SIZE = 50


def organisation_deliveries(request: HttpRequest):
    """The only way the portal finds deliveries: those of this session's organisation's endpoints."""
    return Delivery.objects.filter(webhook__organisation=request.portal.organisation)


@portal_view
def delivery_list(request: HttpRequest):
    filters = DeliveryFilterForm(request.GET or None)
    shown = filters.apply(organisation_deliveries(request)).select_related("event", "webhook").order_by("-created_at")
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/delivery_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "catalog_keys": [entry.key for entry in catalog(request)] + [WEBHOOK_TEST],
        },
    )


@portal_view
def delivery_detail(request: HttpRequest, pk):
    delivery = get_object_or_404(organisation_deliveries(request).select_related("event", "webhook"), pk=pk)
    return render(
        request,
        "portal/delivery_detail.html",
        {
            "delivery": delivery,
            "attempts": attempt_views(delivery.attempt_log.all()),
        },
    )


@require_POST
@portal_view
def delivery_redeliver(request: HttpRequest, pk):
    delivery = get_object_or_404(organisation_deliveries(request).select_related("webhook"), pk=pk)
    try:
        deliveries.redeliver(delivery)
    except EndpointNotReceiving as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Queued again, with the same webhook-id."))
    return redirect("portal:delivery", pk=delivery.pk)
