"""/api/scheduled-events/: event types emitted on a cron schedule, per organisation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, viewsets

from console.api.tenancy import OrganisationField, default_organisation
from events import scheduling
from events.models import ScheduledEvent
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import extend_schema, extend_schema_view
from hooks import patterns


class ScheduledEventSerializer(serializers.ModelSerializer):
    organisation = OrganisationField()
    payload = serializers.DictField(
        required=False, allow_null=True, help_text=ScheduledEvent._meta.get_field("payload").help_text
    )

    class Meta:
        model = ScheduledEvent
        fields = [
            "id",
            "name",
            "organisation",
            "event_type",
            "cron",
            "timezone",
            "payload",
            "payload_function",
            "missed_runs",
            "enabled",
            "next_run_at",
            "last_run_at",
            "last_event_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["next_run_at", "last_run_at", "last_event_id", "created_at", "updated_at"]

    def validate_event_type(self, value: str) -> str:
        refusal = patterns.reserved_refusal(value)
        if refusal:
            raise serializers.ValidationError(refusal, code="reserved_event_type")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and "organisation" not in attrs:
            attrs["organisation"] = default_organisation(self.context["request"].user)
        current = {
            name: getattr(self.instance, name)
            for name in self.Meta.fields
            if self.instance and hasattr(self.instance, name)
        }
        try:
            scheduling.clean_schedule({**current, **attrs})
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None  # {"detail": "cron: …", "fields": {…}}
        return attrs

    def create(self, validated_data: dict[str, Any]) -> ScheduledEvent:
        return scheduling.save_schedule(ScheduledEvent(**validated_data))

    def update(self, schedule: ScheduledEvent, validated_data: dict[str, Any]) -> ScheduledEvent:
        for name, value in validated_data.items():
            setattr(schedule, name, value)
        return scheduling.save_schedule(schedule)


@extend_schema_view(
    list=extend_schema(summary="List scheduled events"),
    create=extend_schema(summary="Schedule an event type (cron expression and time zone)"),
    retrieve=extend_schema(summary="Read a scheduled event"),
    update=extend_schema(summary="Edit a scheduled event (its next run is counted from now)"),
    partial_update=extend_schema(summary="Edit a scheduled event (its next run is counted from now)"),
    destroy=extend_schema(summary="Delete a scheduled event"),
)
class ScheduledEventViewSet(HooklineAPIMixin, viewsets.ModelViewSet):
    """Each run is an ordinary event with the idempotency key schedule:<id>:<scheduled UTC time>."""

    serializer_class = ScheduledEventSerializer
    filterset_fields = ["enabled", "event_type"]

    def get_queryset(self):
        return ScheduledEvent.objects.visible_to(self.request.user)
