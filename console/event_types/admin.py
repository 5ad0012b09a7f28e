"""Admin for the event-type catalog; a schema is checked by the catalog's own check_schema."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models

from console.admin_base import InputGateMixin, LimitedJSONFormField
from events import catalog
from events.models import EventType
from hookline import limits


class EventTypeForm(forms.ModelForm):  # type: ignore[type-arg]  # Django's classes take no [] at run time
    class Meta:
        model = EventType
        fields = ["key", "description", "schema", "accepts_subkeys", "deprecated"]

    def clean_description(self) -> str:
        description: str = self.cleaned_data["description"]
        try:
            limits.check_text(description, where="description", max_length=limits.DESCRIPTION_MAX_LENGTH)
        except limits.LimitExceeded as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from None
        return description

    def clean_schema(self) -> Any:
        schema = self.cleaned_data["schema"]
        try:
            catalog.check_schema(schema)  # the one check emit, the API and the admin share (NUL included)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="schema") from None
        return schema


@admin.register(EventType)
class EventTypeAdmin(InputGateMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # as above
    """The catalog. Types declared in code are rewritten from their declaration on every migrate."""

    form = EventTypeForm
    formfield_overrides = {models.JSONField: {"form_class": LimitedJSONFormField}}
    list_display = ["key", "description", "accepts_subkeys", "deprecated", "declared_in_code"]
    list_filter = ["deprecated", "declared_in_code", "accepts_subkeys"]
    search_fields = ["key", "description"]
    readonly_fields = ["declared_in_code", "created_at", "updated_at"]
