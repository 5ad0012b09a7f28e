"""The endpoint admin: list with last delivery and 24 h success rate, create/edit and actions through
deliveries.endpoint_actions, secret shown once."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from console.admin_base import OrganisationFilter, OrganisationScopedAdmin, badge, member_organisation_ids
from deliveries import endpoint_actions as actions
from deliveries import messages as bodies
from deliveries.exceptions import EndpointNotReceiving
from deliveries.models import Attempt, Delivery, EndpointRuntime
from deliveries.stats import with_delivery_stats
from events.models import Organisation
from hookline.display import displayable
from hooks import contracts
from hooks.models import Webhook

from ..alerts import admin as alerts_admin  # operational alerts (issue 25)
from ..deliveries.admin import status_badge
from ..health import views as health_views
from .forms import WebhookEventTypeFilter, WebhookForm

SUCCESS_WINDOW = timedelta(hours=24)
RECENT_DELIVERIES = 20
SEND_TEST_LIMIT = 10
STATE_TONES = {
    Webhook.State.NEW: "info",
    Webhook.State.VALID: "good",
    Webhook.State.INVALID: "bad",
    Webhook.State.DEACTIVATED: "off",
}


def _breakable_url(url: str) -> str:
    """The URL with a <wbr> after each / ? & = and . so that a narrow column wraps between parts."""
    parts = re.split(r"(?<=[/?&=.])", url)
    return format_html_join("", "{}<wbr>", ((part,) for part in parts if part))


class RecoverForm(forms.Form):
    since = forms.DateTimeField(
        label="Failed since (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Failed deliveries created at or after this time are sent again with their original webhook-id.",
    )


# The delivery contract (hooks.contracts), one fieldset per section, its fields made from contracts.OPTIONS:
# a new option appears on the page without a line in this file.
CONTRACT_SECTIONS = {
    "policy": "Delivery contract: retries and timeouts",
    "body": "Delivery contract: body",
    "batch": "Delivery contract: batching",
    "control": "Delivery control",
    "request": "Request: headers and proxy",
    "signature": "Signatures",
}


def contract_fieldsets(control_status_fields: list[str]) -> list[tuple[str, dict[str, Any]]]:
    extras = {
        "body": ["body_preview"],
        "control": control_status_fields,
        "signature": ["public_key", "shared_secret", "signing_secret"],
    }
    return [
        (
            title,
            {
                "fields": [option.name for option in contracts.OPTIONS if option.section == section]
                + extras.get(section, []),
                "classes": ["collapse"],
            },
        )
        for section, title in CONTRACT_SECTIONS.items()
    ]


@admin.register(Webhook)
class WebhookAdmin(OrganisationScopedAdmin):
    form = WebhookForm
    list_display = [
        "name",
        "masked_url",
        "state_badge",
        "control_badge",
        "last_delivery",
        "success_rate",
        "organisation",
    ]
    list_filter = ["state", OrganisationFilter, WebhookEventTypeFilter]
    list_select_related = ["organisation", "runtime"]
    search_fields = ["name", "url", "description"]
    actions = [
        "enable",
        "disable",
        "rotate_secret",
        "rotate_body_token",
        "send_test",
        "recover_failed",
        "pause",
        "resume",
        "reset_breaker",
        "skip_head",
    ]
    object_actions = {
        "send_test": "Send test",
        "rotate_secret": "Rotate secret",
        "rotate_body_token": "Rotate body token",
        "enable": "Enable",
        "disable": "Disable",
        "recover_failed": "Recover failed…",
        "pause": "Pause",
        "resume": "Resume",
        "reset_breaker": "Close breaker",
        "skip_head": "Skip head of line",
    }
    change_form_template = "admin/hooks/webhook/change_form.html"
    status_fields = [
        "state_badge",
        "state_reason",
        "state_changed_at",
        "auth_username",
        "previous_secret_expires_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ]
    control_status_fields = ["paused_since", "breaker", "head_of_line"]
    readonly_fields = [
        *status_fields,
        *control_status_fields,
        "recent_deliveries",
        "contract_summary",
        "public_key",
        "body_preview",
        "alert_history",
    ]
    fieldsets = [
        (None, {"fields": ["organisation", "name", "description", "url", "event_types", "condition"]}),
        (
            "Delivery contract",
            {
                "fields": ["preset", "contract_summary"],
                "description": (
                    "Every option shows its default; leave a field empty (or as it is) for the default or the "
                    "preset's value."
                ),
            },
        ),
        *contract_fieldsets(control_status_fields),
        ("Alerts", {"fields": ["contact_emails", "alert_history"]}),  # operational alerts (issue 25)
        ("Status", {"fields": status_fields}),
        ("Recent deliveries", {"fields": ["recent_deliveries"]}),
    ]

    def get_urls(self):
        return [
            path("<path:object_id>/health/", self.admin_site.admin_view(self.health_view), name="hooks_webhook_health"),
            *super().get_urls(),
        ]

    def health_view(self, request: HttpRequest, object_id: str):
        """The endpoint's last 7 days: success rate, latency, failures by reason (404 for others' endpoints)."""
        webhook = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, webhook):
            raise PermissionDenied
        return health_views.endpoint_health(request, self, webhook)

    def get_list_display(self, request: HttpRequest):
        # An organisation column only tells something to those who see more than one.
        if len(member_organisation_ids(request)) > 1:
            return self.list_display
        return [column for column in self.list_display if column != "organisation"]

    @admin.display(description="sent alerts")  # operational alerts (issue 25)
    def alert_history(self, webhook: Webhook) -> str:
        return alerts_admin.history_link(webhook) if webhook.pk else ""

    @admin.display(description="applies")
    def contract_summary(self, webhook: Webhook) -> str:
        return displayable(contracts.describe(webhook.delivery_contract)) if webhook.pk else ""

    @admin.display(description="body preview")
    def body_preview(self, webhook: Webhook) -> str:
        """What a receiver gets for a sample event, in the endpoint's body shape (its template, if any)."""
        if not webhook.pk:
            return "Shown once the endpoint is saved."
        sample = bodies.sample_body(webhook)
        return format_html(
            '<pre class="hookline-json">{}</pre>', displayable(json.dumps(sample, indent=2, ensure_ascii=False))
        )

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if obj:
            return self.fieldsets
        # No deliveries, status or runtime state before the endpoint exists.
        return [
            (
                title,
                {
                    **options,
                    "fields": [
                        name
                        for name in options["fields"]
                        if name not in (*self.control_status_fields, "body_preview", "alert_history")
                    ],
                },
            )
            for title, options in self.fieldsets[:-2]
        ]

    def get_queryset(self, request: HttpRequest):
        return with_delivery_stats(
            actions.for_listing(super().get_queryset(request)), since=timezone.now() - SUCCESS_WINDOW
        )

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user  # a class made for this request by modelform_factory
        return form

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        pass  # WebhookForm.save has saved it through deliveries.endpoint_actions (create or update)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.visible_to(request.user)
            # Staff see only their organisations' endpoints: one without an organisation would vanish.
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="URL", ordering="url")
    def masked_url(self, webhook: Webhook) -> str:
        # Break only after the URL's separators (/ ? & .), never inside a word.
        return format_html(
            '<code class="hookline-url" title="{}">{}</code>', webhook.masked_url, _breakable_url(webhook.masked_url)
        )

    @admin.display(description="state", ordering="state")
    def state_badge(self, webhook: Webhook) -> str:
        return badge(webhook.state, STATE_TONES.get(webhook.state, "off"))

    @admin.display(description="control")
    def control_badge(self, webhook: Webhook) -> str:
        parts, runtime, options = [], actions.runtime(webhook), webhook.delivery_contract.control
        if runtime.paused:
            parts.append(badge("paused", "info"))
        if runtime.breaker_state != runtime.Breaker.CLOSED:
            parts.append(badge(f"breaker {runtime.breaker_state}", "bad"))
        if options.rate_limit:
            parts.append(format_html('<span class="quiet">{}/s</span>', options.rate_limit))
        if options.ordered:
            parts.append(format_html('<span class="quiet">{}</span>', "FIFO"))
        return format_html_join(" ", "{}", ((part,) for part in parts)) or "—"

    @admin.display(description="paused since")
    def paused_since(self, webhook: Webhook) -> str:
        runtime = actions.runtime(webhook)
        if not runtime.paused:
            return "not paused"
        held = webhook.deliveries.filter(status=Delivery.Status.HELD).count()
        return format_html("{} ({} held)", timezone.localtime(runtime.paused_at).strftime("%Y-%m-%d %H:%M:%S %Z"), held)

    @admin.display(description="circuit breaker")
    def breaker(self, webhook: Webhook) -> str:
        threshold = webhook.delivery_contract.effective().control.breaker_threshold
        setting = f"opens after {threshold} consecutive failures" if threshold else "off"
        runtime = actions.runtime(webhook)
        if runtime.breaker_state == runtime.Breaker.CLOSED:
            return format_html("closed ({}; {} failed in a row)", setting, runtime.breaker_failures)
        since = (
            timezone.localtime(runtime.breaker_changed_at).strftime("%Y-%m-%d %H:%M:%S")
            if runtime.breaker_changed_at
            else "—"
        )
        until = timezone.localtime(runtime.breaker_until).strftime("%H:%M:%S") if runtime.breaker_until else "—"
        return format_html(
            "{} since {}: {} (waits until {})",
            badge(runtime.breaker_state, "bad"),
            since,
            runtime.breaker_reason,
            until,
        )

    @admin.display(description="head of line")
    def head_of_line(self, webhook: Webhook) -> str:
        if not webhook.delivery_contract.control.ordered:
            return "not FIFO"
        head = actions.head_of_line(webhook)
        if head is None:
            return "nothing waits"
        return format_html(
            '<a href="{}"><code>{}</code></a> ({}, {} attempt(s), next {}) — “Skip head of line” cancels it',
            reverse("admin:deliveries_delivery_change", args=[head.pk]),
            head.event_id,
            head.event.type,
            head.attempts,
            timezone.localtime(head.next_attempt_at).strftime("%H:%M:%S") if head.next_attempt_at else "—",
        )

    @admin.display(description="last delivery", ordering="last_delivery_at")
    def last_delivery(self, webhook: Webhook) -> str:
        if webhook.last_delivery_at is None:
            return "—"
        code = format_html(" <code>{}</code>", webhook.last_delivery_code) if webhook.last_delivery_code else ""
        return format_html(
            '{}{}<br><span class="quiet" title="{}">{}</span>',
            status_badge(webhook.last_delivery_status),
            code,
            date_format(timezone.localtime(webhook.last_delivery_at), "DATETIME_FORMAT"),
            naturaltime(webhook.last_delivery_at),
        )

    @admin.display(description="success (24 h)")
    def success_rate(self, webhook: Webhook) -> str:
        if not webhook.finished_recently:
            return "—"
        rate = webhook.succeeded_recently / webhook.finished_recently
        return format_html(
            '{}<br><span class="quiet">{} of {}</span>',
            f"{rate:.0%}",
            webhook.succeeded_recently,
            webhook.finished_recently,
        )

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, webhook: Webhook) -> str:
        recent = (
            webhook.deliveries.select_related("event")
            .defer("event__payload")
            .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
        )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:deliveries_delivery_change", args=[delivery.pk]),
                    delivery.event_id,
                    delivery.event.type,
                    status_badge(delivery.status),
                    delivery.last_status_code or "—",
                    date_format(timezone.localtime(delivery.created_at), "DATETIME_FORMAT"),
                )
                for delivery in recent
            ),
        )
        if not rows:
            return "No deliveries yet."
        return format_html(
            '<table class="hookline-recent"><thead><tr><th>webhook-id</th><th>event type</th><th>status</th>'
            "<th>code</th><th>created</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}?webhook={}">All deliveries of this endpoint →</a></p>',
            rows,
            reverse("admin:deliveries_delivery_changelist"),
            webhook.pk,
        )

    # --- the secret, shown once ----------------------------------------------------------
    def response_add(self, request: HttpRequest, obj, post_url_continue=None):
        # Rendered as the answer to the POST itself: the secret is never put in a cookie, session or redirect.
        return self.secret_page(
            request,
            [(obj, obj.secret)],
            created=True,
            created_body_token=obj.body_token if obj.body_token_encrypted else "",
        )

    def secret_page(
        self,
        request: HttpRequest,
        issued: list[tuple[Webhook, str]],
        *,
        created: bool = False,
        created_body_token: str = "",
        body_tokens: bool = False,
    ) -> TemplateResponse:
        """``issued``: (endpoint, new secret), or (endpoint, new body token) with ``body_tokens``."""
        title = "Endpoint created: copy its secret" if created else "Secret rotated: copy the new secret"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Body token rotated: copy the new token" if body_tokens else title,
            "issued": issued,
            "created": created,
            "created_body_token": created_body_token,
            "body_tokens": body_tokens,
        }
        return TemplateResponse(request, "admin/hooks/webhook/secret.html", context)

    # --- actions --------------------------------------------------------------------------
    def _each(self, request, queryset, act, done: str, level: int = messages.INFO) -> None:
        """One endpoint action on each selected endpoint, then one message (``{count}`` in ``done``)."""
        for webhook in queryset:
            act(webhook)
        self.message_user(request, done.format(count=len(queryset)), level)

    def object_action_applies(self, name: str, obj: Webhook) -> bool:
        if name == "enable":
            return not obj.enabled
        if name == "disable":
            # One of the two, never both: an invalid endpoint is already out of service, it wants Enable.
            return obj.enabled
        if name in ("pause", "resume"):
            return actions.runtime(obj).paused == (name == "resume")
        if name == "reset_breaker":
            return actions.runtime(obj).breaker_state != EndpointRuntime.Breaker.CLOSED
        if name == "skip_head":
            return obj.delivery_contract.control.ordered
        if name == "rotate_body_token":
            return obj.delivery_contract.body.places_token
        return True

    @admin.action(description="Enable selected endpoints", permissions=["change"])
    def enable(self, request: HttpRequest, queryset) -> None:
        done = "Enabled {count} endpoint(s); each is new until a delivery or test proves it."
        self._each(request, queryset, partial(actions.enable, user=request.user), done)

    @admin.action(description="Disable selected endpoints", permissions=["change"])
    def disable(self, request: HttpRequest, queryset) -> None:
        done = "Disabled {count} endpoint(s)."
        self._each(request, queryset, partial(actions.disable, user=request.user), done, messages.WARNING)

    @admin.action(description="Rotate secret (the new one is shown once)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset):
        issued = [(webhook, actions.rotate_secret(webhook, user=request.user)) for webhook in queryset]
        return self.secret_page(request, issued)

    @admin.action(description="Rotate body token (the new one is shown once)", permissions=["change"])
    def rotate_body_token(self, request: HttpRequest, queryset):
        carrying = [webhook for webhook in queryset if webhook.delivery_contract.body.places_token]
        if not carrying:
            self.message_user(
                request, "None of these endpoints' bodies carries a token ({{secret.token}}).", messages.WARNING
            )
            return None
        issued = [(webhook, actions.rotate_body_token(webhook, user=request.user)) for webhook in carrying]
        return self.secret_page(request, issued, body_tokens=True)

    @admin.action(description="Send a test event now", permissions=["change"])
    def send_test(self, request: HttpRequest, queryset):
        # Each test is a request made while the operator waits; many would outlast any proxy timeout.
        if queryset.count() > SEND_TEST_LIMIT:
            self.message_user(request, f"Select at most {SEND_TEST_LIMIT} endpoints to test at once.", messages.WARNING)
            return None
        for webhook in queryset:
            attempt = actions.send_test(webhook, user=request.user)
            inspect = reverse("admin:deliveries_delivery_change", args=[attempt.delivery_id])
            if attempt.succeeded:
                outcome, level = f"answered {attempt.response_status} in {attempt.duration_ms} ms", messages.SUCCESS
            else:
                outcome, level = f"failed: {attempt.error or attempt.response_status}", messages.ERROR
            self.message_user(
                request,
                format_html(
                    'Test of “{}” {}; the endpoint is now {}. <a href="{}">Inspect the request and response</a>',
                    webhook.name,
                    outcome,
                    webhook.state,
                    inspect,
                ),
                level,
            )

    @admin.action(description="Recover failed deliveries since…", permissions=["change"])
    def recover_failed(self, request: HttpRequest, queryset):
        form = RecoverForm(
            request.POST if "apply" in request.POST else None, initial={"since": timezone.now() - SUCCESS_WINDOW}
        )
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/deliveries/recover.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": "Recover failed deliveries",
                    "webhooks": queryset,
                    "form": form,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        since = form.cleaned_data["since"]
        for webhook in queryset:
            try:
                count = actions.recover(webhook, since)
            except EndpointNotReceiving as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, f"Re-queued {count} failed delivery(ies) of “{webhook.name}”.", messages.SUCCESS
                )
        return None

    @admin.action(description="Pause selected endpoints (deliveries are held)", permissions=["change"])
    def pause(self, request: HttpRequest, queryset) -> None:
        self._each(
            request, queryset, actions.pause, "Paused {count} endpoint(s): their deliveries are held until resumed."
        )

    @admin.action(description="Resume selected endpoints (send what was held)", permissions=["change"])
    def resume(self, request: HttpRequest, queryset) -> None:
        released = sum(actions.resume(webhook) for webhook in queryset)
        self.message_user(request, f"Resumed {len(queryset)} endpoint(s); {released} held delivery(ies) queued.")

    @admin.action(description="Close the circuit breaker of selected endpoints", permissions=["change"])
    def reset_breaker(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, actions.reset_breaker, "Closed the breaker of {count} endpoint(s).")

    @admin.action(description="Skip the head of line of selected FIFO endpoints", permissions=["change"])
    def skip_head(self, request: HttpRequest, queryset) -> None:
        for webhook in queryset:
            head = actions.skip_head(webhook) if webhook.delivery_contract.control.ordered else None
            if head is None:
                self.message_user(request, f"“{webhook.name}”: no head of line to skip.", messages.WARNING)
            else:
                self.message_user(
                    request, f"“{webhook.name}”: skipped (cancelled) delivery {head.pk} of {head.event_id}."
                )

    # --- deleting takes the endpoint's log with it ------------------------------------------
    def get_deleted_objects(self, objs, request: HttpRequest):
        # Django would list every delivery and attempt of a busy endpoint (minutes, megabytes):
        # the confirmation lists the endpoints and counts their log instead.
        webhooks = list(objs)
        ids = [webhook.pk for webhook in webhooks]
        listed = [
            format_html(
                '{}: <a href="{}">{}</a>',
                capfirst(self.opts.verbose_name),
                reverse("admin:hooks_webhook_change", args=[webhook.pk]),
                webhook,
            )
            for webhook in webhooks
        ]
        model_count = {
            self.opts.verbose_name_plural: len(webhooks),
            Delivery._meta.verbose_name_plural: Delivery.objects.filter(webhook_id__in=ids).count(),
            Attempt._meta.verbose_name_plural: Attempt.objects.filter(delivery__webhook_id__in=ids).count(),
        }
        return listed, model_count, set(), []

    def delete_model(self, request: HttpRequest, obj) -> None:
        actions.delete(obj, force=True)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for webhook in queryset:
            actions.delete(webhook, force=True)
