"""The event log in the admin: what was emitted, for whom, when it was fanned out, and its deliveries."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from console.admin_base import EventTypeFilter, OrganisationFilter, ReadOnlyLogAdmin
from deliveries import routing
from deliveries.models import Delivery
from events.models import Event
from hookline.display import pretty_json
from hooks.models import Webhook

from ..deliveries.admin import status_badge
from .filters import PayloadSearchMixin


class EventDeliveryInline(admin.TabularInline):
    """Read-only rows; each endpoint name links to that delivery's inspector."""

    model = Delivery
    fields = [
        "endpoint",
        "status_badge",
        "total_attempts",
        "last_status_code",
        "last_error",
        "created_at",
        "completed_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "deliveries"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).visible_to(request.user).select_related("webhook")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="endpoint")
    def endpoint(self, delivery: Delivery) -> str:
        inspector = reverse("admin:deliveries_delivery_change", args=[delivery.pk])
        return format_html('<a href="{}" title="Open the inspector">{}</a>', inspector, delivery.webhook.name)

    @admin.display(description="status")
    def status_badge(self, delivery: Delivery) -> str:
        return status_badge(delivery.status)


@admin.register(Event)
class EventAdmin(PayloadSearchMixin, ReadOnlyLogAdmin):
    """The event log: what was emitted, for whom, and when it was fanned out."""

    list_display = ["id", "type", "organisation", "created_at", "dispatched_at"]
    list_filter = [EventTypeFilter, OrganisationFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["organisation"]
    search_fields = ["id__exact", "idempotency_key__exact"]  # exact, not "=" (iexact): UPPER() defeats indexes
    search_help_text = (
        "An exact event id (the webhook-id header, msg_…) or idempotency key, or a payload field: data.notice.id = 42."
    )
    show_full_result_count = False  # a second COUNT(*) of a big log on every page
    fields = [
        "id",
        "type",
        "organisation",
        "idempotency_key",
        "created_at",
        "dispatched_at",
        "routing",
        "payload_pretty",
    ]
    readonly_fields = fields
    inlines = [EventDeliveryInline]

    @admin.display(description="payload")
    def payload_pretty(self, event: Event) -> str:
        return format_html('<pre class="hookline-json">{}</pre>', pretty_json(event.payload))

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        event = super().get_object(request, object_id, from_field)
        event.viewer = request.user  # the routing field lists only the endpoints this user may see
        return event

    @admin.display(description="routing")
    def routing(self, event: Event) -> str:
        """Which endpoints matched (got a delivery) and which a condition filtered out."""
        if event.dispatched_at is None:
            return "Not fanned out yet."
        explained = routing.explain(event, Webhook.objects.visible_to(event.viewer))
        how = "explicit endpoints" if event.target_endpoints else "subscriptions and conditions"
        return format_html(
            "By {}. <strong>Matched</strong>: {}.<br><strong>Filtered by their condition</strong>: {}.",
            how,
            _links(explained.matched),
            _links(explained.filtered),
        )


def _links(webhooks: list[Webhook]) -> str:
    if not webhooks:
        return "none"
    return format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        ((reverse("admin:hooks_webhook_change", args=[webhook.pk]), webhook.name) for webhook in webhooks),
    )
