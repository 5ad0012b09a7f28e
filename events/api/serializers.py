"""Serializers of the catalog and of emitting over HTTP."""
from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from events import catalog
from events.models import Event, EventType
from hookline.api.tenancy import OrganisationField

KEY_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z",
    "Keys are dot-separated segments of letters, digits, _ and - (invoice.paid).",
    code="invalid_key",
)


class EventTypeSerializer(serializers.ModelSerializer):
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)
    schema = serializers.JSONField(
        required=False, allow_null=True, help_text="JSON Schema that payloads of this type must match.",
    )

    class Meta:
        model = EventType
        fields = ["key", "description", "schema", "accepts_subkeys", "deprecated", "declared_in_code", "created", "updated"]
        read_only_fields = ["declared_in_code"]
        extra_kwargs = {"key": {"validators": [
            KEY_VALIDATOR,
            UniqueValidator(EventType.objects.all(), message="The catalog already has this key.", lookup="exact"),
        ]}}

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # the key is the type's identity: receivers subscribe to it
            fields["key"].read_only = True
        return fields

    def validate_schema(self, value):
        try:
            catalog.check_schema(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_schema") from None
        return value or None


class EmitSerializer(serializers.Serializer):
    """What ``events.emit()`` takes, as JSON."""

    type = serializers.CharField(max_length=200, help_text="An event type key of the catalog, e.g. invoice.paid.")
    payload = serializers.DictField(help_text="The event's data: a JSON object (the `data` receivers get).")
    organisation = OrganisationField()
    idempotency_key = serializers.CharField(
        max_length=200, required=False, allow_blank=True,
        help_text="A repeat with the same key within HOOKLINE IDEMPOTENCY_WINDOW returns the first event.",
    )


class EventSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    dispatched = serializers.DateTimeField(
        source="dispatched_at", read_only=True, allow_null=True, help_text="When its deliveries were created (null until fan-out ran).",
    )

    class Meta:
        model = Event
        fields = ["id", "type", "payload", "organisation", "idempotency_key", "created", "dispatched"]
        read_only_fields = fields
