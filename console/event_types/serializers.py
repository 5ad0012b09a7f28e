"""The event-type catalog as the API shows and takes it (schemas checked by catalog.check_schema)."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.validators import UniqueValidator

from events import catalog
from events.models import EventType
from hookline import limits

KEY_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z",
    "Keys are dot-separated segments of letters, digits, _ and - (invoice.paid).",
    code="invalid_key",
)


class EventTypeSerializer(serializers.ModelSerializer[EventType]):
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)
    schema = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="JSON Schema that payloads of this type must match.",
    )

    class Meta:
        model = EventType
        fields = [
            "key",
            "description",
            "schema",
            "accepts_subkeys",
            "deprecated",
            "declared_in_code",
            "created",
            "updated",
        ]
        read_only_fields = ["declared_in_code"]
        extra_kwargs = {
            "description": {"max_length": limits.DESCRIPTION_MAX_LENGTH},
            "key": {
                "validators": [
                    KEY_VALIDATOR,
                    UniqueValidator(
                        EventType.objects.all(), message="The catalog already has this key.", lookup="exact"
                    ),
                ]
            },
        }

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        if self.instance is not None and "key" in fields:  # the key is the type's identity: receivers subscribe to it
            fields["key"].read_only = True
        return fields

    def validate_schema(self, value: Any) -> Any:
        try:
            catalog.check_schema(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_schema") from None
        return value or None


class EventTypeReplaceSerializer(EventTypeSerializer):
    """PUT replaces an event type: its description is required (the key is its identity and stays)."""

    class Meta(EventTypeSerializer.Meta):
        fields = [name for name in EventTypeSerializer.Meta.fields if name != "key"]
        extra_kwargs = {"description": {"required": True}}
