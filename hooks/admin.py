"""Admin for webhook endpoints: create and edit through the endpoint services, secrets shown once.

The delivery-aware columns and actions (last delivery, success rate, send test, recover) are
added by ``deliveries.admin``, which may import this app while this app may not import it.
"""
from __future__ import annotations

import copy
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html

from hookline.admin import (
    EventTypeFilter,
    OrganisationFilter,
    OrganisationScopedAdmin,
    badge,
    member_organisation_ids,
)
from events.models import Organisation

from . import patterns, services
from .models import Webhook

STATE_TONES = {
    Webhook.State.NEW: "info",
    Webhook.State.VALID: "good",
    Webhook.State.INVALID: "bad",
    Webhook.State.DEACTIVATED: "off",
}

# Which form field a ValidationError of the endpoint services belongs to, by its code.
FIELD_OF_ERROR = {
    "unsafe_url": "url", "unsafe_proxy": "proxy_url", "event_types": "event_types", "headers": "headers",
    "shared_secret_header": "shared_secret_header",
}


class PatternListField(forms.CharField):
    """Event-type patterns, one per line (or comma-separated); the model stores them as a JSON list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [part.strip() for part in re.split(r"[\n,]", value or "") if part.strip()]


class WebhookForm(forms.ModelForm):
    """Validates through ``create_webhook``/``update_webhook`` (commit=False), so the admin shows their messages.

    ``self.instance`` only feeds the ModelForm machinery; the endpoint that is saved is ``self.webhook``,
    built by the service in ``clean()``.
    """

    url = forms.CharField(
        label="URL", max_length=2000, help_text=Webhook._meta.get_field("url").help_text,
        widget=forms.TextInput(attrs={"size": 80}),
    )
    event_types = PatternListField(
        label="Event types", initial=["*"],
        help_text="One pattern per line: exact keys, * for everything, or * as a whole segment (user.*).",
    )
    user = None  # set by WebhookAdmin.get_form: the admin user who creates or edits

    class Meta:
        model = Webhook
        fields = [
            "organisation", "name", "description", "url", "event_types", "headers", "standard_signature",
            "github_signature", "shared_secret_header", "payload_version", "proxy_url",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields and self.instance.pk is None:
            self.fields["name"].required = False
            self.fields["name"].help_text = "Defaults to the URL."
        if self.instance.pk is not None:
            # Shown as user:***@ — sent back unchanged, the stored password stays (Webhook.set_url).
            self.initial["url"] = self.instance.masked_url
        self.webhook: Webhook | None = None

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # the services need every field's value
            return cleaned
        values = {name: cleaned[name] for name in self.fields if name in services.EDITABLE_FIELDS}
        if "headers" in values:
            values["headers"] = values["headers"] or {}  # an emptied JSON box means no extra headers
        try:
            if self.instance.pk is None:
                self.webhook, _ = services.create_webhook(user=self.user, commit=False, **values)
            else:
                changes = {name: values[name] for name in self.changed_data if name in values}
                # A copy: the ModelForm machinery writes the raw form values onto self.instance next.
                self.webhook = services.update_webhook(copy.copy(self.instance), user=self.user, commit=False, **changes)
        except ValidationError as exc:
            self.add_error(FIELD_OF_ERROR.get(exc.code), exc)
        return cleaned

    def save(self, commit: bool = True) -> Webhook:
        if commit:
            self.webhook.save()
        self.save_m2m = lambda: None  # an endpoint has no many-to-many fields
        return self.webhook


class WebhookEventTypeFilter(EventTypeFilter):
    """Endpoints whose patterns select an event type (patterns are JSON, so matched in Python)."""

    def queryset(self, request, queryset):
        key = self.value()
        if key is None:
            return queryset
        ids = [pk for pk, selected in queryset.values_list("id", "event_types") if patterns.matches_any(selected, key)]
        return queryset.filter(id__in=ids)


@admin.register(Webhook)
class WebhookAdmin(OrganisationScopedAdmin):
    form = WebhookForm
    list_display = ["name", "masked_url", "state_badge", "organisation"]
    list_filter = ["state", OrganisationFilter, WebhookEventTypeFilter]
    list_select_related = ["organisation"]
    search_fields = ["name", "url", "description"]
    actions = ["enable", "disable", "rotate_secret"]
    object_actions = {"rotate_secret": "Rotate secret", "enable": "Enable", "disable": "Disable"}
    change_form_template = "admin/hooks/webhook/change_form.html"
    status_fields = [
        "state_badge", "state_reason", "state_changed_at", "auth_username", "previous_secret_expires_at",
        "created_at", "created_by", "updated_at", "updated_by",
    ]
    readonly_fields = status_fields
    fieldsets = [
        (None, {"fields": ["organisation", "name", "description", "url", "event_types"]}),
        ("Signatures and request", {"fields": [
            "standard_signature", "github_signature", "shared_secret_header", "headers", "payload_version", "proxy_url",
        ]}),
        ("Status", {"fields": status_fields}),
    ]

    def get_list_display(self, request):
        # An organisation column only tells something to those who see more than one.
        if len(member_organisation_ids(request)) > 1:
            return self.list_display
        return [column for column in self.list_display if column != "organisation"]

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj else self.fieldsets[:-1]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user  # a class made for this request by modelform_factory
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.visible_to(request.user)
            # Staff see only their organisations' endpoints: one without an organisation would vanish.
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="URL", ordering="url")
    def masked_url(self, webhook: Webhook) -> str:
        return format_html('<code style="word-break: break-all">{}</code>', webhook.masked_url)

    @admin.display(description="state", ordering="state")
    def state_badge(self, webhook: Webhook) -> str:
        return badge(webhook.state, STATE_TONES.get(webhook.state, "off"))

    # --- the secret, shown once ----------------------------------------------------------
    def response_add(self, request, obj, post_url_continue=None):
        # Rendered as the answer to the POST itself: the secret is never put in a cookie, session or redirect.
        return self.secret_page(request, [(obj, obj.secret)], created=True)

    def secret_page(self, request, issued: list[tuple[Webhook, str]], *, created: bool = False) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Endpoint created: copy its secret" if created else "Secret rotated: copy the new secret",
            "issued": issued,
            "created": created,
        }
        return TemplateResponse(request, "admin/hooks/webhook/secret.html", context)

    # --- actions --------------------------------------------------------------------------
    def object_action_applies(self, name: str, obj: Webhook) -> bool:
        if name == "enable":
            return not obj.enabled
        if name == "disable":
            return obj.state != Webhook.State.DEACTIVATED
        return True

    @admin.action(description="Enable selected endpoints", permissions=["change"])
    def enable(self, request, queryset):
        for webhook in queryset:
            services.enable(webhook, user=request.user)
        self.message_user(request, f"Enabled {len(queryset)} endpoint(s); each is new until a delivery or test proves it.")

    @admin.action(description="Disable selected endpoints", permissions=["change"])
    def disable(self, request, queryset):
        for webhook in queryset:
            services.disable(webhook, user=request.user)
        self.message_user(request, f"Disabled {len(queryset)} endpoint(s).", messages.WARNING)

    @admin.action(description="Rotate secret (the new one is shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        issued = [(webhook, services.rotate_secret(webhook, user=request.user)) for webhook in queryset]
        return self.secret_page(request, issued)
