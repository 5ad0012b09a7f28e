"""The portal's forms: what a customer may set on an endpoint. The checks are hooks.services' own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliveries.models import Delivery
from events.models import EventType
from hookline import contacts, limits
from hookline.conf import hookline_settings

from .access import PortalAccess

ALL_EVENTS = "*"


def event_type_choices(access: PortalAccess) -> list[tuple[str, str]]:
    """The catalog as this session may pick from it ('*' only when the session is not limited)."""
    entries = EventType.objects.filter(deprecated=False).order_by("key")
    choices = [(entry.key, entry.key) for entry in entries if access.allows_event_type(entry.key)]
    return ([(ALL_EVENTS, _("Every event type"))] if access.event_types is None else []) + choices


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks"}),
    )
    name = forms.CharField(label=_("Name"), max_length=limits.NAME_MAX_LENGTH, required=False)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=limits.DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    contact_emails = forms.CharField(
        label=_("Alert contacts"),
        required=False,
        max_length=contacts.MAX_LENGTH,
        help_text=_("Email addresses, separated by commas, told when this endpoint is failing, disabled or recovers."),
        widget=forms.TextInput(attrs={"autocomplete": "email", "placeholder": "ops@example.com, dev@example.com"}),
    )
    event_types = forms.MultipleChoiceField(label=_("Event types"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, access: PortalAccess, current: list[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not (hookline_settings.ALERTS and hookline_settings.ALERT_EMAILS):
            del self.fields["contact_emails"]  # no alert emails on this site: nobody to tell
        choices = event_type_choices(access)
        # Patterns the endpoint already has (set through the API: "invoice.*") stay choosable, so an edit keeps them.
        offered = {value for value, _label in choices}
        self.fields["event_types"].choices = choices + [
            (pattern, pattern) for pattern in current if pattern not in offered
        ]

    def add_service_errors(self, exc: ValidationError) -> None:
        """hooks.services' refusal, keyed by its field, shown on that field (or above the form)."""
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class RecoverForm(forms.Form):
    since = forms.DateTimeField(label=_("Failed since"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since > timezone.now():
            raise ValidationError(_("Choose a time in the past."))
        return since


class DeliveryFilterForm(forms.Form):
    """The delivery log's filters; every one optional, invalid ones ignored."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Delivery.Status.choices]
    )
    event_type = forms.CharField(
        label=_("Event type"), required=False, max_length=200, widget=forms.TextInput(attrs={"list": "catalog-keys"})
    )  # the page's <datalist>
    endpoint = forms.IntegerField(label=_("Endpoint"), required=False, widget=forms.HiddenInput)
    since = forms.DateTimeField(
        label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        label=_("Until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def apply(self, deliveries):
        if not self.is_valid():
            return deliveries
        data = self.cleaned_data
        if data["status"]:
            deliveries = deliveries.filter(status=data["status"])
        if data["event_type"]:
            deliveries = deliveries.filter(event__type=data["event_type"])
        if data["endpoint"]:
            deliveries = deliveries.filter(webhook_id=data["endpoint"])
        if data["since"]:
            deliveries = deliveries.filter(created_at__gte=data["since"])
        if data["until"]:
            deliveries = deliveries.filter(created_at__lt=data["until"])
        return deliveries


def default_recover_since():
    return (timezone.now() - timedelta(days=1)).replace(second=0, microsecond=0)
