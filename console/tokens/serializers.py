"""What POST /api/tokens/validate/ takes (a webhook-id with its signature or token) and answers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class TokenValidationSerializer(serializers.Serializer[Any]):
    required_one_of = ("signature", "token")

    webhook_id = serializers.CharField(max_length=64, help_text="The webhook-id header you received (msg_…).")
    signature = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="The webhook-signature header you received.",
    )
    token = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Or: the token you received: the body's token (a template's {{secret.token}}, e.g. store-notice's "
        "token) or the value of the endpoint's shared-secret header.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not (data.get("signature") or data.get("token")):
            raise serializers.ValidationError(
                "Give the signature (or the shared-secret token) you received.", code="required"
            )
        return data


class TokenCheckSerializer(serializers.Serializer[Any]):
    valid = serializers.BooleanField(help_text="Whether Hookline sent this webhook-id with this signature or token.")
    webhook = serializers.IntegerField(allow_null=True, help_text="The endpoint it was sent to, when valid.")
    event_type = serializers.CharField(allow_blank=True)
