"""What POST /api/events/ takes (the arguments of ``events.emit``) and answers (the stored event)."""

from __future__ import annotations

from rest_framework import serializers

from console.api.tenancy import OrganisationField, OrganisationSlugField
from events.models import Event
from hooks import patterns


class EmitSerializer(serializers.Serializer):
    """What ``events.emit()`` takes, as JSON."""

    type = serializers.CharField(max_length=200, help_text="An event type key of the catalog, e.g. invoice.paid.")
    payload = serializers.DictField(help_text="The event's data: a JSON object (the `data` receivers get).")
    organisation = OrganisationField()
    idempotency_key = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="A repeat with the same key within HOOKLINE IDEMPOTENCY_WINDOW returns the first event.",
    )
    endpoints = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=False,
        max_length=1000,
        help_text="Deliver only to these endpoints of the organisation (ids), whatever they subscribe to; "
        "still only if they receive (new or valid). An id that is not the organisation's answers 400.",
    )

    def validate_type(self, value: str) -> str:
        refusal = patterns.reserved_refusal(value)
        if refusal:
            raise serializers.ValidationError(refusal, code="reserved_event_type")
        return value


class EventSerializer(serializers.ModelSerializer):
    organisation = OrganisationSlugField(help_text="null for an event emitted outside any organisation.")
    created = serializers.DateTimeField(source="created_at", read_only=True)
    dispatched = serializers.DateTimeField(
        source="dispatched_at",
        read_only=True,
        allow_null=True,
        help_text="When its deliveries were created (null until fan-out ran).",
    )

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "payload",
            "organisation",
            "idempotency_key",
            "target_endpoints",
            "created",
            "dispatched",
        ]
        read_only_fields = fields
