"""The delivery log in the admin: a list that finds a delivery in seconds, and the request/response inspector."""

from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from console.admin_base import EventTypeFilter, ReadOnlyLogAdmin, badge, filter_id, time_until
from deliveries import pulse, services
from deliveries.exceptions import EndpointNotReceiving
from deliveries.models import Delivery
from hooks import contracts
from hooks.models import Webhook

from ..events.filters import PayloadSearchMixin
from ..health import views as health_views
from .inspector import attempt_views

logger = logging.getLogger(__name__)

REDELIVER_LIMIT = 500
STATUS_TONES = {
    Delivery.Status.PENDING: "wait",
    Delivery.Status.SUCCEEDED: "good",
    Delivery.Status.FAILED: "bad",
    Delivery.Status.CANCELLED: "off",
    Delivery.Status.HELD: "info",
}


def status_badge(status: str | None) -> str:
    return badge(status, STATUS_TONES.get(status, "off")) if status else "—"


class EndpointFilter(admin.SimpleListFilter):
    """Filter by endpoint, offering only the user's endpoints (never a DISTINCT over the log)."""

    title = "endpoint"
    parameter_name = "webhook"

    def lookups(self, request: HttpRequest, model_admin):
        return list(Webhook.objects.visible_to(request.user).order_by("name").values_list("id", "name"))

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        if value is None:
            return queryset
        number = filter_id(value)
        return queryset.filter(webhook_id=number) if number is not None else queryset.none()


class DeliveryEventTypeFilter(EventTypeFilter):
    field_path = "event__type"


@admin.register(Delivery)
class DeliveryAdmin(PayloadSearchMixin, ReadOnlyLogAdmin):
    organisation_attribute = "webhook.organisation_id"
    list_display = ["delivery", "endpoint", "status_with_code", "attempt_count", "created"]
    list_filter = [EndpointFilter, "status", DeliveryEventTypeFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["event", "webhook"]
    search_fields = ["event__id__exact"]  # exact, not "=" (iexact): UPPER() would defeat the index
    search_help_text = (
        "An exact webhook-id (the event id, msg_…), as the receiver logged it, or a payload field: data.notice.id = 42."
    )
    change_list_template = "admin/deliveries/delivery/change_list.html"
    payload_prefix = "event__"
    show_full_result_count = False  # a second COUNT(*) of a big log on every page
    actions = ["redeliver"]
    object_actions = {"redeliver": "Redeliver"}

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="hookline_dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest):
        """The Hookline dashboard (console/health): scoped to the user's organisations."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return health_views.dashboard(request, self)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # The delivery log is where an operator looks when deliveries stall: say so when a safety net
        # (beat's sweeper, the workers' periodic check) has not run for a while. Two rows, one query.
        for job, age in pulse.stale_jobs().items():
            warning = pulse.describe_stale(job, age)
            self.message_user(
                request,
                warning + " Deliveries may stall: check that the workers and beat are running.",
                messages.WARNING,
            )
            logger.warning("Hookline health: %s", warning)
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest):
        # Payloads can be large and the list never shows them; the inspector shows the sent bodies.
        return super().get_queryset(request).select_related("event", "webhook").defer("event__payload")

    @admin.display(description="event · webhook-id", ordering="event__type")
    def delivery(self, delivery: Delivery) -> str:
        return format_html('{}<br><code class="quiet">{}</code>', delivery.event.type, delivery.event_id)

    @admin.display(description="endpoint", ordering="webhook__name")
    def endpoint(self, delivery: Delivery) -> str:
        return delivery.webhook.name

    @admin.display(description="status · code", ordering="status")
    def status_with_code(self, delivery: Delivery) -> str:
        code = format_html(" <code>{}</code>", delivery.last_status_code) if delivery.last_status_code else ""
        shown = format_html("{}{}", status_badge(delivery.status), code)
        if delivery.status != Delivery.Status.PENDING or not delivery.attempts:
            return shown
        # A pending delivery that already failed: why, and when it is tried again.
        # (An HTTP answer is the code shown already; a connection error is the text.)
        error = delivery.last_error
        note = format_html('<div class="hookline-cell-note" title="{}">{}</div>', error, Truncator(error).chars(80))
        return format_html(
            '{}{}<div class="quiet">next attempt {}</div>',
            shown,
            note if error else "",
            time_until(delivery.next_attempt_at) or "not scheduled",
        )

    @admin.display(description="attempts", ordering="total_attempts")
    def attempt_count(self, delivery: Delivery) -> int:
        return delivery.total_attempts

    @admin.display(description="created", ordering="created_at")
    def created(self, delivery: Delivery) -> str:
        created = timezone.localtime(delivery.created_at)
        return format_html("{}<br>{}", created.strftime("%Y-%m-%d"), created.strftime("%H:%M:%S"))

    def render_change_form(
        self, request: HttpRequest, context, add: bool = False, change: bool = False, form_url: str = "", obj=None
    ):
        if obj is not None:
            context.update(
                title="Delivery",
                subtitle=f"{obj.event.type} → {obj.webhook.name}",
                attempts=attempt_views(obj.attempt_log.all()),
                status_badge=status_badge(obj.status),
                next_attempt_in=time_until(obj.next_attempt_at),
                contract=contracts.describe(obj.webhook.delivery_contract),
                batch=Delivery.objects.filter(batch_id=obj.batch_id, webhook_id=obj.webhook_id)
                .select_related("event")
                .order_by("event__created_at", "event_id")
                if obj.batch_id
                else [],
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- redeliver ------------------------------------------------------------------------
    def object_action_applies(self, name: str, obj: Delivery) -> bool:
        return not (name == "redeliver" and obj.status == Delivery.Status.PENDING)  # it is on its way already

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        # The log is never edited, so the change permission is the right to send a delivery again.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.action(description="Redeliver (same webhook-id, fresh retry budget)", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset) -> None:
        if queryset.count() > REDELIVER_LIMIT:  # one transaction each, while the operator waits
            self.message_user(
                request,
                f"Select at most {REDELIVER_LIMIT} deliveries; for an endpoint's failed "
                "deliveries use its “Recover failed deliveries” action.",
                messages.WARNING,
            )
            return
        queued = 0
        for delivery in queryset:
            if delivery.status == Delivery.Status.PENDING:
                self.message_user(
                    request, f"{delivery.event_id} to “{delivery.webhook}” is already pending.", messages.INFO
                )
                continue
            try:
                services.redeliver(delivery)
            except EndpointNotReceiving as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                queued += 1
        if queued:
            self.message_user(
                request, f"Queued {queued} redelivery(ies) with their original webhook-id.", messages.SUCCESS
            )
