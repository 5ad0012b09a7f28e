"""The alert history in the admin (what was told to whom, when, by which channel) and the re-enable link's page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from deliveries.alerts import links
from deliveries.alerts.kinds import KINDS
from deliveries.models import Notification
from hooks import services as endpoints
from hooks.models import Webhook

from ..admin_base import OrganisationFilter, OrganisationScopedAdmin, badge

KIND_TONES = {"recovered": "good", "breaker_closed": "good", "secret_expiring": "info", "failing": "wait"}


def history_link(webhook: Webhook) -> str:
    """A link to this endpoint's alerts, with their count (the endpoint page and the dashboard)."""
    count = Notification.objects.filter(webhook=webhook).count()
    url = reverse("admin:deliveries_notification_changelist") + f"?webhook__id__exact={webhook.pk}"
    return format_html('<a href="{}">{} alert{}</a>', url, count, "" if count == 1 else "s")


@admin.register(Notification)
class NotificationAdmin(OrganisationScopedAdmin):
    """Read-only: alerts are written by Hookline, once each."""

    list_display = ["created_at", "kind_badge", "webhook", "summary", "channels", "emailed_to", "email_status"]
    list_filter = ["kind", "email_status", OrganisationFilter]
    list_select_related = ["webhook", "organisation"]
    search_fields = ["summary", "emailed_to", "webhook__name"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "kind",
        "webhook",
        "organisation",
        "summary",
        "event_ids",
        "event_endpoints",
        "emailed_to",
        "email_status",
        "email_sent_at",
        "email_error",
        "signalled",
        "payload",
    ]
    readonly_fields = fields

    def get_urls(self):
        return [
            path(
                "reenable/<str:token>/",
                self.admin_site.admin_view(self.reenable_view),
                name="deliveries_notification_reenable",
            ),
            *super().get_urls(),
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="kind", ordering="kind")
    def kind_badge(self, notification: Notification) -> str:
        return badge(notification.kind.replace("_", " "), KIND_TONES.get(notification.kind, "bad"))

    @admin.display(description="channels")
    def channels(self, notification: Notification) -> str:
        told = []
        if notification.event_ids:
            told.append(f"event → {len(notification.event_endpoints)} endpoint(s)")
        if notification.emailed_to:
            told.append("email")
        if notification.signalled:
            told.append("signal")
        return ", ".join(told) or "—"

    def reenable_view(self, request: HttpRequest, token: str):
        """The email's re-enable link: a signed, expiring token; the admin login; a confirmation; then enable()."""
        try:
            webhook_id = links.read_token(token)
        except signing.SignatureExpired:
            return self._link_refused(request, "This re-enable link has expired. Open the endpoint to re-enable it.")
        except signing.BadSignature as refused:
            raise Http404("No such link.") from refused
        webhook = Webhook.objects.visible_to(request.user).filter(pk=webhook_id).first()
        if webhook is None:
            raise Http404("No such endpoint.")
        if not request.user.has_perm("hooks.change_webhook"):
            raise PermissionDenied
        change_url = reverse("admin:hooks_webhook_change", args=[webhook.pk])
        if request.method == "POST":
            if not webhook.enabled:
                endpoints.enable(webhook, user=request.user)
                messages.success(
                    request, f"“{webhook.name}” is enabled again; it is new until a delivery or test proves it."
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Re-enable “{webhook.name}”?",
            "webhook": webhook,
            "change_url": change_url,
            "health_url": links.health_url(webhook.pk),
            "kinds": KINDS,
        }
        return TemplateResponse(request, "admin/deliveries/notification/reenable.html", context)

    def _link_refused(self, request: HttpRequest, text: str):
        messages.error(request, text)
        return HttpResponseRedirect(reverse("admin:hooks_webhook_changelist"))
