"""The endpoint admin with delivery information: last delivery, 24 h success rate, send test, recover, delete."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from hooks import admin as hooks_admin
from hooks.models import Webhook

from .. import services
from ..exceptions import EndpointNotReceiving
from ..models import Attempt, Delivery
from ..stats import with_delivery_stats
from .log import status_badge

SUCCESS_WINDOW = timedelta(hours=24)
RECENT_DELIVERIES = 20
SEND_TEST_LIMIT = 10


class RecoverForm(forms.Form):
    since = forms.DateTimeField(
        label="Failed since (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Failed deliveries created at or after this time are sent again with their original webhook-id.",
    )


admin.site.unregister(Webhook)


@admin.register(Webhook)
class WebhookAdmin(hooks_admin.WebhookAdmin):
    list_display = [*hooks_admin.WebhookAdmin.list_display[:3], "last_delivery", "success_rate",
                    *hooks_admin.WebhookAdmin.list_display[3:]]
    actions = [*hooks_admin.WebhookAdmin.actions, "send_test", "recover_failed"]
    object_actions = {"send_test": "Send test", **hooks_admin.WebhookAdmin.object_actions,
                      "recover_failed": "Recover failed…"}
    readonly_fields = [*hooks_admin.WebhookAdmin.readonly_fields, "recent_deliveries"]
    fieldsets = [*hooks_admin.WebhookAdmin.fieldsets, ("Recent deliveries", {"fields": ["recent_deliveries"]})]

    def get_queryset(self, request):
        return with_delivery_stats(super().get_queryset(request), since=timezone.now() - SUCCESS_WINDOW)

    @admin.display(description="last delivery", ordering="last_delivery_at")
    def last_delivery(self, webhook: Webhook) -> str:
        if webhook.last_delivery_at is None:
            return "—"
        code = format_html(" <code>{}</code>", webhook.last_delivery_code) if webhook.last_delivery_code else ""
        return format_html(
            '{}{}<br><span class="quiet" title="{}">{}</span>',
            status_badge(webhook.last_delivery_status), code,
            timezone.localtime(webhook.last_delivery_at).strftime("%Y-%m-%d %H:%M:%S %Z"),
            naturaltime(webhook.last_delivery_at),
        )

    @admin.display(description="success (24 h)")
    def success_rate(self, webhook: Webhook) -> str:
        if not webhook.finished_recently:
            return "—"
        rate = webhook.succeeded_recently / webhook.finished_recently
        return format_html(
            '{}<br><span class="quiet">{} of {}</span>',
            f"{rate:.0%}", webhook.succeeded_recently, webhook.finished_recently,
        )

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, webhook: Webhook) -> str:
        recent = (
            webhook.deliveries.select_related("event").defer("event__payload")
            .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
        )
        rows = format_html_join(
            "", '<tr><td><a href="{}"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (reverse("admin:deliveries_delivery_change", args=[delivery.pk]), delivery.event_id, delivery.event.type,
                 status_badge(delivery.status), delivery.last_status_code or "—",
                 timezone.localtime(delivery.created_at).strftime("%Y-%m-%d %H:%M:%S"))
                for delivery in recent
            ),
        )
        if not rows:
            return "No deliveries yet."
        return format_html(
            '<table class="hookline-recent"><thead><tr><th>webhook-id</th><th>event type</th><th>status</th>'
            "<th>code</th><th>created</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}?webhook={}">All deliveries of this endpoint →</a></p>',
            rows, reverse("admin:deliveries_delivery_changelist"), webhook.pk,
        )

    # --- actions --------------------------------------------------------------------------
    @admin.action(description="Send a test event now", permissions=["change"])
    def send_test(self, request, queryset):
        # Each test is a request made while the operator waits; many would outlast any proxy timeout.
        if queryset.count() > SEND_TEST_LIMIT:
            self.message_user(request, f"Select at most {SEND_TEST_LIMIT} endpoints to test at once.", messages.WARNING)
            return None
        for webhook in queryset:
            attempt = services.send_test(webhook, user=request.user)
            inspect = reverse("admin:deliveries_delivery_change", args=[attempt.delivery_id])
            if attempt.succeeded:
                outcome, level = f"answered {attempt.response_status} in {attempt.duration_ms} ms", messages.SUCCESS
            else:
                outcome, level = f"failed: {attempt.error or attempt.response_status}", messages.ERROR
            self.message_user(request, format_html(
                'Test of “{}” {}; the endpoint is now {}. <a href="{}">Inspect the request and response</a>',
                webhook.name, outcome, webhook.state, inspect,
            ), level)

    @admin.action(description="Recover failed deliveries since…", permissions=["change"])
    def recover_failed(self, request, queryset):
        form = RecoverForm(request.POST if "apply" in request.POST else None,
                           initial={"since": timezone.now() - SUCCESS_WINDOW})
        if not form.is_valid():
            return TemplateResponse(request, "admin/deliveries/recover.html", {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Recover failed deliveries",
                "webhooks": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            })
        since = form.cleaned_data["since"]
        for webhook in queryset:
            try:
                count = services.recover(webhook, since)
            except EndpointNotReceiving as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, f"Re-queued {count} failed delivery(ies) of “{webhook.name}”.", messages.SUCCESS
                )
        return None

    # --- deleting takes the endpoint's log with it ------------------------------------------
    def get_deleted_objects(self, objs, request):
        # Django would list every delivery and attempt of a busy endpoint (minutes, megabytes):
        # the confirmation lists the endpoints and counts their log instead.
        webhooks = list(objs)
        ids = [webhook.pk for webhook in webhooks]
        listed = [
            format_html('{}: <a href="{}">{}</a>', capfirst(self.opts.verbose_name),
                        reverse("admin:hooks_webhook_change", args=[webhook.pk]), webhook)
            for webhook in webhooks
        ]
        model_count = {
            self.opts.verbose_name_plural: len(webhooks),
            Delivery._meta.verbose_name_plural: Delivery.objects.filter(webhook_id__in=ids).count(),
            Attempt._meta.verbose_name_plural: Attempt.objects.filter(delivery__webhook_id__in=ids).count(),
        }
        return listed, model_count, set(), []

    def delete_model(self, request, obj):
        services.delete_webhook(obj, force=True)

    def delete_queryset(self, request, queryset):
        for webhook in queryset:
            services.delete_webhook(webhook, force=True)
