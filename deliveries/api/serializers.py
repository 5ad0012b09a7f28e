"""The delivery log as the API shows it: deliveries, each attempt's request and response, and action bodies."""
from __future__ import annotations

from rest_framework import serializers

from deliveries.models import Attempt, Delivery


class AttemptSerializer(serializers.ModelSerializer):
    sent = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Attempt
        fields = [
            "number", "sent", "request_url", "request_headers", "request_body", "response_status",
            "response_headers", "response_body", "response_truncated", "duration_ms", "error", "succeeded",
            "next_retry_at",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_id", read_only=True, help_text="The event id: the webhook-id header.")
    event_type = serializers.CharField(source="event.type", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    completed = serializers.DateTimeField(source="completed_at", read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "webhook", "event", "event_type", "status", "attempts", "total_attempts", "next_attempt_at",
            "last_status_code", "last_error", "created", "completed",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.JSONField(source="event.payload", read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True, help_text="Every attempt, oldest first.")

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempt_log"]
        read_only_fields = fields


class TestResultSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    state = serializers.CharField(help_text="The endpoint's state after the test: valid or invalid.")
    delivery = serializers.IntegerField(help_text="The test delivery's id (GET /api/deliveries/{id}/).")
    attempt = AttemptSerializer()


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Re-queue the failed deliveries created at or after this ISO 8601 time.")


class RecoveredSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="How many failed deliveries were queued again.")


class DeleteOptionsSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=True,
        help_text="true (default): cancel pending deliveries and delete. false: refuse with 409 while any are pending.",
    )


class TokenValidationSerializer(serializers.Serializer):
    webhook_id = serializers.CharField(max_length=64, help_text="The webhook-id header you received (msg_…).")
    signature = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="The webhook-signature header you received.",
    )
    token = serializers.CharField(
        max_length=2000, required=False, allow_blank=True,
        help_text="Or: the value of the endpoint's shared-secret header.",
    )

    def validate(self, data):
        if not (data.get("signature") or data.get("token")):
            raise serializers.ValidationError("Give the signature (or the shared-secret token) you received.", code="required")
        return data


class TokenCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="Whether Hookline sent this webhook-id with this signature or token.")
    webhook = serializers.IntegerField(allow_null=True, help_text="The endpoint it was sent to, when valid.")
    event_type = serializers.CharField(allow_blank=True)
