"""The endpoint as the API shows it (masked URL, never a secret) and takes it (through deliveries.endpoint_actions), and
its actions' bodies."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from console.api.tenancy import OrganisationField, default_organisation
from deliveries import endpoint_actions as actions
from hookline.api.errors import from_django
from hooks import contracts
from hooks.models import Webhook
from hooks.urlguard import mask_url

from ..deliveries.serializers import AttemptSerializer

SWITCHES = ("state", "enabled")  # how an owner turns an endpoint on and off


@extend_schema_field({"type": "string", "nullable": True, "readOnly": True})
class UsernameField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, user) -> str:
        return user.get_username()  # DRF answers null itself when there is no user


# What the workers and pause/resume keep (deliveries.EndpointRuntime): shown, never written through the API.
RUNTIME_FIELDS = [
    "paused",
    "paused_at",
    "breaker_state",
    "breaker_failures",
    "breaker_changed_at",
    "breaker_until",
    "breaker_reason",
]


def flat_option_field(option: contracts.Option) -> serializers.Field:
    """The API field of a contract option by its pre-Architecture II name (the same value as in ``contract``)."""
    common = {"required": False, "help_text": f"{option.help} Also contract.{option.path}."}
    if option.kind == "bool":
        return serializers.BooleanField(**common)
    if option.kind == "int":
        return serializers.IntegerField(
            allow_null=True, min_value=0, max_value=contracts.MAXIMA.get(option.path), **common
        )
    if option.kind == "headers":
        return serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=2000), **common)
    return serializers.CharField(allow_blank=True, max_length=2000, trim_whitespace=False, **common)


def runtime_fields() -> dict[str, serializers.Field]:
    return {
        "paused": serializers.BooleanField(read_only=True),
        "paused_at": serializers.DateTimeField(read_only=True, allow_null=True),
        "breaker_state": serializers.CharField(read_only=True),
        "breaker_failures": serializers.IntegerField(read_only=True),
        "breaker_changed_at": serializers.DateTimeField(read_only=True, allow_null=True),
        "breaker_until": serializers.DateTimeField(read_only=True, allow_null=True),
        "breaker_reason": serializers.CharField(read_only=True),
    }


class Shown:
    """The endpoint as the API reads it: its fields, its contract's options by their flat names, its runtime state."""

    def __init__(self, webhook: Webhook) -> None:
        self.webhook = webhook

    def __getattr__(self, name: str):
        option = contracts.FLAT_OPTIONS.get(name)
        if option is not None:
            return contracts.value_of(self.webhook.contract or {}, option, contracts.default_of(option))
        if name in RUNTIME_FIELDS:
            return getattr(actions.runtime(self.webhook), name)
        return getattr(self.webhook, name)


class StateField(serializers.ChoiceField):
    """An endpoint state: any of the four in answers; writes accept only new (re-enable) and deactivated."""

    writable_choices = (Webhook.State.NEW, Webhook.State.DEACTIVATED)
    writable_enum_name = "WritableStateEnum"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Webhook.State.choices, **kwargs)


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=2000,
        help_text="Where events are POSTed. https://user:pass@host/… moves the credentials to Basic auth; "
        "answers show the URL as user:***@host, never the password. A changed URL puts the endpoint back to new.",
    )
    name = serializers.CharField(max_length=200, required=False, help_text="Defaults to the URL.")
    organisation = OrganisationField()
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        allow_empty=False,
        min_length=1,
        help_text='Patterns: exact keys, * for everything, * as a whole segment (user.*). Default ["*"].',
    )
    condition = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='Only events whose data match are delivered, e.g. {"path": "usage.percent", "gte": 80}; '
        "operators eq, ne, gt, gte, lt, lte, in, contains, exists, combined with and/or/not. null: every event.",
    )
    state = StateField(
        required=False,
        help_text="new (not yet proven), valid, invalid (failing; receives nothing) or deactivated. "
        "Writes accept only new (re-enable) and deactivated.",
    )
    enabled = serializers.BooleanField(
        required=False,
        help_text="True in new and valid. Write false to deactivate, true to re-enable (state new).",
    )
    signing_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=600,
        help_text="Create only: import an existing signing secret (whsec_… or raw) instead of a generated one.",
    )
    body_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=512,
        help_text="Create only: import the body token ({{secret.token}} in a body template) receivers already know, "
        "instead of a generated one. Replace it later with rotate-body-token.",
    )
    shared_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=512,
        help_text="A value you chose for the shared-secret header (encrypted, never shown); "
        '"": send the signing secret.',
    )
    contract = serializers.JSONField(
        required=False,
        help_text='Every delivery option in one value (docs/endpoint-options.md): {"preset": "apigee"} and the '
        "sections policy, body, batch, control, request and signature. Given, it replaces the stored contract; the "
        "flat option fields (headers, rate_limit, …) given alongside are set into it. {} = the defaults.",
    )
    contract_summary = serializers.SerializerMethodField(help_text="The contract that applies, in words.")
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
            "id",
            "organisation",
            "name",
            "description",
            "url",
            "event_types",
            "condition",
            "public_key",
            "signing_secret",
            "body_token",
            "shared_secret",
            "contract",
            "contract_summary",
            *contracts.FLAT_OPTIONS,
            "state",
            "enabled",
            "state_reason",
            "state_changed_at",
            "created",
            "created_by",
            "updated",
            "updated_by",
            *RUNTIME_FIELDS,
            "head_of_line",
            "contact_emails",  # operational alerts (issue 25)
        ]
        read_only_fields = ["state_reason", "state_changed_at", "public_key"]

    def get_head_of_line(self, webhook: Webhook) -> int | None:
        head = actions.head_of_line(webhook) if webhook.delivery_contract.control.ordered else None
        return head.pk if head else None

    def to_representation(self, webhook: Webhook) -> dict[str, Any]:
        data = super().to_representation(Shown(webhook))
        data["url"] = webhook.masked_url
        data["proxy_url"] = mask_url(data["proxy_url"]) if data.get("proxy_url") else ""
        return data

    def get_contract_summary(self, webhook: Webhook) -> str:
        return contracts.describe(webhook.delivery_contract)

    def validate(self, attrs: dict[str, Any]) -> dict:
        """The endpoint services' clean step; its refusals answer as they always have (message and code)."""
        if self.instance is None and "organisation" not in attrs:
            attrs["organisation"] = default_organisation(self.context["request"].user)
        # A new endpoint takes state and enabled as an edit right after it is created (see create()).
        fields = attrs if self.instance is not None else {k: v for k, v in attrs.items() if k not in SWITCHES}
        fields = {k: v for k, v in fields.items() if k not in ("signing_secret", "body_token")}
        try:
            if attrs.get("signing_secret"):
                if self.instance is not None:
                    raise DjangoValidationError(
                        {
                            "signing_secret": DjangoValidationError(
                                "Import a secret on an existing endpoint with rotate-secret.", code="secret"
                            )
                        }
                    )
                actions.validate_secret(attrs["signing_secret"])
            if attrs.get("body_token"):
                if self.instance is not None:
                    raise DjangoValidationError(
                        {
                            "body_token": DjangoValidationError(
                                "Import a body token on an existing endpoint with rotate-body-token.", code="body_token"
                            )
                        }
                    )
                actions.validate_body_token(attrs["body_token"])
            actions.clean(fields, webhook=self.instance)
        except DjangoValidationError as exc:
            raise from_django(exc) from None
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Webhook:
        user = self.context["request"].user
        switches = {name: validated_data.pop(name) for name in SWITCHES if name in validated_data}
        imported = validated_data.pop("signing_secret", "")
        with transaction.atomic():
            webhook, secret = actions.create(user=user, secret=imported, **validated_data)
            if switches:
                actions.update(webhook, user=user, **switches)
        self.context["secret"] = secret
        self.context["body_token"] = webhook.body_token or None
        return webhook

    def update(self, webhook: Webhook, validated_data: dict[str, Any]) -> Webhook:
        validated_data.pop("body_token", None)  # refused in validate() when given
        return actions.update(webhook, user=self.context["request"].user, **validated_data)


# The contract's options by their flat names, and the runtime state, declared from their one description.
WebhookSerializer._declared_fields.update(
    {name: flat_option_field(option) for name, option in contracts.FLAT_OPTIONS.items()},
    **runtime_fields(),
)


class WebhookCreatedSerializer(WebhookSerializer):
    """The create answer: the endpoint and its secret, shown this once."""

    secret = serializers.SerializerMethodField(help_text="whsec_…: verify signatures with it. It is never shown again.")

    body_token = serializers.SerializerMethodField(
        help_text="The body token its template places ({{secret.token}}), shown this once; null if the body has none.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]

    def get_secret(self, webhook) -> str:
        return self.context["secret"]  # handed over by create(): the model's secret is never read back

    @extend_schema_field({"type": "string", "nullable": True})
    def get_body_token(self, webhook) -> str | None:
        return self.context.get("body_token")


class RotateSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=600,
        help_text="Optional: import this signing secret (whsec_… or raw) instead of generating one.",
    )


class RotatedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new whsec_… secret, shown this once.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then requests carry signatures with both the old and the new secret.",
    )


class RotateBodyTokenSerializer(serializers.Serializer):
    body_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=512,
        help_text="Optional: import this body token instead of generating one.",
    )


class RotatedBodyTokenSerializer(serializers.Serializer):
    body_token = serializers.CharField(help_text="The new body token, shown this once; bodies carry it from now on.")
    previous_body_token_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Until then POST /api/tokens/validate/ still accepts the previous token.",
    )


class TestResultSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    state = serializers.ChoiceField(
        choices=Webhook.State.choices,
        help_text="The endpoint's state after the test: valid or invalid.",
    )
    delivery = serializers.IntegerField(help_text="The test delivery's id (GET /api/deliveries/{id}/).")
    attempt = AttemptSerializer()


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        help_text="Re-queue the failed deliveries created at or after this ISO 8601 time."
    )


class RecoveredSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="How many failed deliveries were queued again.")


class SkippedSerializer(serializers.Serializer):
    skipped = serializers.IntegerField(
        allow_null=True, help_text="The cancelled head's delivery id (null: nothing waited)."
    )


class ResumedSerializer(serializers.Serializer):
    released = serializers.IntegerField(help_text="How many held deliveries were queued to be sent.")


class DeleteOptionsSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=True,
        help_text="true (default): cancel pending deliveries and delete. false: refuse with 409 while any are pending.",
    )
