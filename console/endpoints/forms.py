"""The endpoint's admin form (checked by hooks.services' clean step, saved by create/update) and its event-type filter."""
from __future__ import annotations

import copy
import re

from django import forms
from django.core.exceptions import ValidationError

from console.admin_base import EventTypeFilter
from hooks import patterns, services
from hooks.models import Webhook


class PatternListField(forms.CharField):
    """Event-type patterns, one per line (or comma-separated); the model stores them as a JSON list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [part.strip() for part in re.split(r"[\n,]", value or "") if part.strip()]


class WebhookForm(forms.ModelForm):
    """Checked by ``services.clean_webhook_fields`` (its errors land on their fields); saved by ``create_webhook``/``update_webhook``.

    ``self.instance`` only feeds the ModelForm machinery, which writes the raw form values onto it;
    the endpoint that is edited is ``self.original``, the instance as it was loaded.
    """

    url = forms.CharField(
        label="URL", max_length=2000, help_text=Webhook._meta.get_field("url").help_text,
        widget=forms.TextInput(attrs={"size": 80}),
    )
    event_types = PatternListField(
        label="Event types", initial=["*"],
        help_text="One pattern per line: exact keys, * for everything, or * as a whole segment (user.*).",
    )
    signing_secret = forms.CharField(
        label="Import a signing secret", required=False, widget=forms.PasswordInput,
        help_text="New endpoints only: an existing whsec_… or raw secret instead of a generated one.",
    )
    shared_secret = forms.CharField(
        label="Shared-secret value", required=False, widget=forms.PasswordInput,
        help_text="A value the customer chose for the shared-secret header (encrypted, never shown again). "
        "Empty keeps the stored value; a new endpoint without one sends the signing secret.",
    )
    user = None  # set by WebhookAdmin.get_form: the admin user who creates or edits

    class Meta:
        model = Webhook
        fields = [
            "organisation", "name", "description", "url", "event_types", "condition", "headers", "standard_signature",
            "github_signature", "shared_secret_header", "payload_version", "proxy_url", "contract",
            "asymmetric_signature", "test_on_save", "contact_emails",
            "rate_limit", "rate_limit_burst", "ordered", "breaker_threshold", "breaker_cooldown",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, maximum in services.CONTROL_MAXIMA.items():  # the real limit, not the column's 2147483647
            if name in self.fields:
                self.fields[name] = forms.IntegerField(
                    min_value=0, max_value=maximum, required=False, label=self.fields[name].label,
                    help_text=self.fields[name].help_text,
                )
        if "name" in self.fields and self.instance.pk is None:
            self.fields["name"].required = False
            self.fields["name"].help_text = "Defaults to the URL."
        if self.instance.pk is not None:
            # Shown as user:***@ — sent back unchanged, the stored password stays (Webhook.set_url).
            self.initial["url"] = self.instance.masked_url
        self.original = copy.copy(self.instance)

    def service_values(self) -> dict:
        """The endpoint's fields for create_webhook (all of them) or update_webhook (the changed ones)."""
        values = {name: self.cleaned_data[name] for name in self.fields if name in services.EDITABLE_FIELDS}
        if not values.get("shared_secret"):
            values.pop("shared_secret", None)  # a password box is never filled in: empty keeps the stored value
        if "headers" in values:
            values["headers"] = values["headers"] or {}
        if "contract" in values:
            values["contract"] = values["contract"] or {}  # an emptied JSON box means no extra headers
        if self.original.pk is None:
            return values
        return {name: values[name] for name in self.changed_data if name in values}

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # the clean step needs every field's value
            return cleaned
        try:
            if self.cleaned_data.get("signing_secret"):
                if self.original.pk:
                    raise ValidationError({"signing_secret": "Import a secret on an existing endpoint by rotating it."})
                services.validate_secret(self.cleaned_data["signing_secret"])
            services.clean_webhook_fields(self.service_values(), webhook=self.original if self.original.pk else None)
        except ValidationError as exc:
            self.add_error(None, exc)  # keyed by field: each message lands on its field
        return cleaned

    def save(self, commit: bool = True) -> Webhook:
        """Create or update through the endpoint services, which check once more and save (whatever ``commit`` says)."""
        if self.original.pk is None:
            webhook, self.secret = services.create_webhook(
                user=self.user, secret=self.cleaned_data.get("signing_secret", ""), **self.service_values(),
            )
        else:
            webhook = services.update_webhook(self.original, user=self.user, **self.service_values())
        self.save_m2m = lambda: None  # an endpoint has no many-to-many fields
        return webhook


class WebhookEventTypeFilter(EventTypeFilter):
    """Endpoints whose patterns select an event type (patterns are JSON, so matched in Python)."""

    def queryset(self, request, queryset):
        key = self.value()
        if key is None:
            return queryset
        ids = [pk for pk, selected in queryset.values_list("id", "event_types") if patterns.matches_any(selected, key)]
        return queryset.filter(id__in=ids)
