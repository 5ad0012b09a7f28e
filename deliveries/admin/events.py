"""The event admin with the deliveries each event fanned out to, and their statuses."""
from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from events import admin as events_admin
from events.models import Event

from ..models import Delivery
from .log import status_badge


class EventDeliveryInline(admin.TabularInline):
    """Read-only rows; each endpoint name links to that delivery's inspector."""

    model = Delivery
    fields = ["endpoint", "status_badge", "total_attempts", "last_status_code", "last_error", "created_at", "completed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "deliveries"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("webhook")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="endpoint")
    def endpoint(self, delivery: Delivery) -> str:
        inspector = reverse("admin:deliveries_delivery_change", args=[delivery.pk])
        return format_html('<a href="{}" title="Open the inspector">{}</a>', inspector, delivery.webhook.name)

    @admin.display(description="status")
    def status_badge(self, delivery: Delivery) -> str:
        return status_badge(delivery.status)


admin.site.unregister(Event)


@admin.register(Event)
class EventAdmin(events_admin.EventAdmin):
    inlines = [EventDeliveryInline]
    change_form_template = "admin/deliveries/event_change_form.html"
