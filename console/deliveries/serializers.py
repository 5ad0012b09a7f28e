"""The delivery log as the API shows it: deliveries, and each attempt's request and response."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from deliveries.models import Attempt, Delivery
from hooks import contracts


class AttemptSerializer(serializers.ModelSerializer):
    sent = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Attempt
        fields = [
            "number",
            "sent",
            "request_url",
            "request_headers",
            "request_body",
            "request_truncated",
            "response_status",
            "response_headers",
            "response_body",
            "response_truncated",
            "duration_ms",
            "error",
            "error_detail",
            "succeeded",
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
            "id",
            "webhook",
            "event",
            "event_type",
            "status",
            "attempts",
            "total_attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "batch_id",
            "created",
            "completed",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.JSONField(source="event.payload", read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True, help_text="Every attempt, oldest first.")
    contract = serializers.SerializerMethodField(help_text="The endpoint's delivery contract that applies, in words.")
    batch = serializers.SerializerMethodField(
        help_text="Every event of this delivery's batch (one POST), with its status.",
    )

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempt_log", "contract", "batch"]
        read_only_fields = fields

    def get_contract(self, delivery: Delivery) -> str:
        return contracts.describe(delivery.webhook.delivery_contract)

    def get_batch(self, delivery: Delivery) -> list[dict[str, Any]]:
        if not delivery.batch_id:
            return []
        members = Delivery.objects.filter(batch_id=delivery.batch_id, webhook_id=delivery.webhook_id)
        return [
            {"id": pk, "event": event, "event_type": key, "status": status}
            for pk, event, key, status in members.order_by("event__created_at", "event_id").values_list(
                "id", "event_id", "event__type", "status"
            )
        ]
