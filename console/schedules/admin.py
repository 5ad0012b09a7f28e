"""Scheduled events in the admin: cron, time zone, payload (fixed or a registered function), missed runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from console.admin_base import OrganisationScopedAdmin
from events import scheduling
from events.models import Organisation, ScheduledEvent
from hooks import patterns


class ScheduledEventForm(forms.ModelForm):
    payload_function = forms.ChoiceField(
        required=False,
        help_text=ScheduledEvent._meta.get_field("payload_function").help_text,
    )

    class Meta:
        model = ScheduledEvent
        fields = [
            "name",
            "organisation",
            "event_type",
            "cron",
            "timezone",
            "payload",
            "payload_function",
            "missed_runs",
            "enabled",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payload_function"].choices = [("", "— a fixed payload —")] + [
            (name, name) for name in scheduling.payload_function_names()
        ]

    def clean_event_type(self):
        refusal = patterns.reserved_refusal(self.cleaned_data["event_type"])
        if refusal:
            raise forms.ValidationError(refusal, code="reserved_event_type")
        return self.cleaned_data["event_type"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                scheduling.clean_schedule(cleaned)
            except ValidationError as exc:
                self.add_error(None, exc)  # keyed by field: each message lands on its field
        return cleaned


@admin.register(ScheduledEvent)
class ScheduledEventAdmin(OrganisationScopedAdmin):
    form = ScheduledEventForm
    list_display = ["name", "event_type", "cron", "timezone", "enabled", "next_run_at", "last_run_at"]
    list_filter = ["enabled", "missed_runs"]
    search_fields = ["name", "event_type"]
    readonly_fields = ["next_run_at", "last_run_at", "last_event_id", "created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        scheduling.save_schedule(obj)  # plans the next run from now

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.visible_to(request.user)
            # Staff see only their organisations' schedules: one without an organisation would vanish.
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
