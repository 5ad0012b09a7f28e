"""The endpoint as the API shows it (masked URL, never a secret) and takes it (through hooks.services), and its actions' bodies."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hookline.api.errors import from_django
from hookline.api.tenancy import OrganisationField, default_organisation
from deliveries import control
from hooks import services
from hooks.models import Webhook
from hooks.urlguard import mask_url

from ..deliveries.serializers import AttemptSerializer

SWITCHES = ("state", "enabled")  # how an owner turns an endpoint on and off


@extend_schema_field({"type": "string", "nullable": True, "readOnly": True})
class UsernameField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, user) -> str:
        return user.get_username()  # DRF answers null itself when there is no user


# Delivery control (deliveries/control.py): settings, then what the workers and pause/resume keep.
CONTROL_READ_ONLY = [
    "paused", "paused_at", "breaker_state", "breaker_failures", "breaker_changed_at", "breaker_until", "breaker_reason",
]
CONTROL_FIELDS = [
    "rate_limit", "rate_limit_burst", "ordered", "breaker_threshold", "breaker_cooldown", *CONTROL_READ_ONLY,
    "head_of_line",
]


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=2000,
        help_text="Where events are POSTed. https://user:pass@host/… moves the credentials to Basic auth; "
        "answers show the URL as user:***@host, never the password. A changed URL puts the endpoint back to new.",
    )
    name = serializers.CharField(max_length=200, required=False, help_text="Defaults to the URL.")
    organisation = OrganisationField()
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, allow_empty=False,
        help_text="Patterns: exact keys, * for everything, * as a whole segment (user.*). Default [\"*\"].",
    )
    headers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000), required=False,
        help_text="Static headers sent with every request (the signature headers cannot be overridden).",
    )
    state = serializers.ChoiceField(
        choices=Webhook.State.choices, required=False,
        help_text="new (not yet proven), valid, invalid (failing; receives nothing) or deactivated. "
        "Writes accept only new (re-enable) and deactivated.",
    )
    enabled = serializers.BooleanField(
        required=False, help_text="True in new and valid. Write false to deactivate, true to re-enable (state new).",
    )
    head_of_line = serializers.SerializerMethodField(
        help_text="FIFO endpoints: the id of the delivery that must go first (null if none or not FIFO).",
    )
    created = serializers.DateTimeField(source="created_at", read_only=True)
    created_by = UsernameField()
    updated = serializers.DateTimeField(source="updated_at", read_only=True)
    updated_by = UsernameField()

    class Meta:
        model = Webhook
        fields = [
            "id", "organisation", "name", "description", "url", "event_types", "headers",
            "standard_signature", "github_signature", "shared_secret_header", "payload_version", "proxy_url",
            "state", "enabled", "state_reason", "state_changed_at", "created", "created_by", "updated", "updated_by",
            *CONTROL_FIELDS,
        ]
        read_only_fields = ["state_reason", "state_changed_at", *CONTROL_READ_ONLY]

    def get_head_of_line(self, webhook: Webhook) -> int | None:
        head = control.head_of_line(webhook) if webhook.ordered else None
        return head.pk if head else None

    def to_representation(self, webhook: Webhook) -> dict:
        data = super().to_representation(webhook)
        data["url"] = webhook.masked_url
        data["proxy_url"] = mask_url(webhook.proxy_url) if webhook.proxy_url else ""
        return data

    def validate(self, attrs: dict) -> dict:
        """The endpoint services' clean step; its refusals answer as they always have (message and code)."""
        if self.instance is None and "organisation" not in attrs:
            attrs["organisation"] = default_organisation(self.context["request"].user)
        # A new endpoint takes state and enabled as an edit right after it is created (see create()).
        fields = attrs if self.instance is not None else {k: v for k, v in attrs.items() if k not in SWITCHES}
        try:
            services.clean_webhook_fields(fields, webhook=self.instance)
        except DjangoValidationError as exc:
            raise from_django(exc) from None
        return attrs

    def create(self, validated_data: dict) -> Webhook:
        user = self.context["request"].user
        switches = {name: validated_data.pop(name) for name in SWITCHES if name in validated_data}
        with transaction.atomic():
            webhook, secret = services.create_webhook(user=user, **validated_data)
            if switches:
                services.update_webhook(webhook, user=user, **switches)
        self.context["secret"] = secret
        return webhook

    def update(self, webhook: Webhook, validated_data: dict) -> Webhook:
        return services.update_webhook(webhook, user=self.context["request"].user, **validated_data)


class WebhookCreatedSerializer(WebhookSerializer):
    """The create answer: the endpoint and its secret, shown this once."""

    secret = serializers.SerializerMethodField(help_text="whsec_…: verify signatures with it. It is never shown again.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]

    def get_secret(self, webhook) -> str:
        return self.context["secret"]  # handed over by create(): the model's secret is never read back


class RotatedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new whsec_… secret, shown this once.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then requests carry signatures with both the old and the new secret.",
    )


class TestResultSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    state = serializers.CharField(help_text="The endpoint's state after the test: valid or invalid.")
    delivery = serializers.IntegerField(help_text="The test delivery's id (GET /api/deliveries/{id}/).")
    attempt = AttemptSerializer()


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Re-queue the failed deliveries created at or after this ISO 8601 time.")


class RecoveredSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="How many failed deliveries were queued again.")


class SkippedSerializer(serializers.Serializer):
    skipped = serializers.IntegerField(allow_null=True, help_text="The cancelled head's delivery id (null: nothing waited).")


class ResumedSerializer(serializers.Serializer):
    released = serializers.IntegerField(help_text="How many held deliveries were queued to be sent.")


class DeleteOptionsSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=True,
        help_text="true (default): cancel pending deliveries and delete. false: refuse with 409 while any are pending.",
    )
