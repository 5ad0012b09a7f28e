"""Admin for tenants, the event-type catalog and the event log (payloads pretty-printed, read-only)."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from hookline.admin import EventTypeFilter, OrganisationFilter, OrganisationScopedAdmin, ReadOnlyLogAdmin, pretty_json
from .models import Event, EventType, Organisation


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    """Superusers manage tenants and their members; other staff only see their own organisations."""

    organisation_attribute = "id"
    list_display = ["name", "slug", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, organisation: Organisation) -> int:
        return organisation.member_count

    # The members widget lists every user of the site: only superusers may edit tenants.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class EventTypeForm(forms.ModelForm):
    class Meta:
        model = EventType
        fields = ["key", "description", "schema", "accepts_subkeys", "deprecated"]

    def clean_schema(self):
        schema = self.cleaned_data["schema"]
        if schema is not None:
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise forms.ValidationError(f"Not a valid JSON Schema: {exc.message}", code="schema") from exc
        return schema


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    """The catalog. Types declared in code are rewritten from their declaration on every migrate."""

    form = EventTypeForm
    list_display = ["key", "description", "accepts_subkeys", "deprecated", "declared_in_code"]
    list_filter = ["deprecated", "declared_in_code", "accepts_subkeys"]
    search_fields = ["key", "description"]
    readonly_fields = ["declared_in_code", "created_at", "updated_at"]


@admin.register(Event)
class EventAdmin(ReadOnlyLogAdmin):
    """The event log: what was emitted, for whom, and when it was fanned out."""

    list_display = ["id", "type", "organisation", "created_at", "dispatched_at"]
    list_filter = [EventTypeFilter, OrganisationFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["organisation"]
    search_fields = ["id__exact", "idempotency_key__exact"]  # exact, not "=" (iexact): UPPER() defeats indexes
    search_help_text = "An exact event id (the webhook-id header, msg_…) or idempotency key."
    show_full_result_count = False  # a second COUNT(*) of a big log on every page
    fields = ["id", "type", "organisation", "idempotency_key", "created_at", "dispatched_at", "payload_pretty"]
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_pretty(self, event: Event) -> str:
        return format_html('<pre class="hookline-json">{}</pre>', pretty_json(event.payload))
