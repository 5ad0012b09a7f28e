"""Webhook endpoints: identity, URL and auth, subscription, encrypted secrets, the delivery contract and state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from events.models import Organisation
from hookline import contacts, limits
from hookline.querysets import TenantQuerySet

from . import contracts, crypto, states
from .urlguard import MASK, mask_url, split_credentials, validate_url


class WebhookQuerySet(TenantQuerySet["Webhook"]):
    def receiving(self) -> Self:
        """Endpoints that get events: ``new`` and ``valid`` ones."""
        return self.filter(state__in=states.RECEIVING_STATES)

    def for_organisations(self, organisation_ids: Iterable[int | None]) -> Self:
        """The endpoints of these tenants, in one query; None stands for the endpoints without a tenant."""
        organisation_ids = set(organisation_ids)
        query = self.filter(organisation_id__in={org for org in organisation_ids if org is not None})
        if None in organisation_ids:
            query = query | self.filter(organisation__isnull=True)
        return query

    def excluding_deactivated(self) -> Self:
        """What endpoint lists show unless deactivated endpoints are asked for."""
        return self.exclude(state=Webhook.State.DEACTIVATED)


def default_event_types() -> list[str]:
    return ["*"]


class Webhook(models.Model):
    """One receiver's endpoint."""

    State = states.State  # changed only through hooks.states.transition()
    RECEIVING_STATES = states.RECEIVING_STATES

    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    name = models.CharField("name", max_length=limits.NAME_MAX_LENGTH)
    description = models.TextField("description", blank=True)
    url = models.URLField(
        "URL",
        max_length=2000,
        validators=[validate_url],  # the SSRF guard also for full_clean() and ModelForms
        help_text="Where events are POSTed. Credentials in the URL (https://user:pass@host/) are moved "
        "to Basic auth and the password is never shown again.",
    )
    auth_username = models.CharField("Basic auth user", max_length=200, blank=True)
    auth_password_encrypted = models.TextField("Basic auth password (encrypted)", blank=True, editable=False)
    event_types = models.JSONField(
        "event types",
        default=default_event_types,
        help_text="Patterns: exact keys, * for everything, or * as a whole segment (user.*).",
    )
    condition = models.JSONField(
        "condition",
        null=True,
        blank=True,
        help_text="Only events whose data match it are delivered (hooks.conditions), e.g. "
        '{"path": "usage.percent", "gte": 80}. Empty: every event of the subscribed types.',
    )
    secret_encrypted = models.TextField("secret (encrypted)", editable=False)
    previous_secret_encrypted = models.TextField("previous secret (encrypted)", blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField("previous secret signs until", null=True, blank=True)
    signing_key_encrypted = models.TextField("ed25519 signing key (encrypted)", blank=True, editable=False)
    public_key = models.CharField(
        "public key",
        max_length=100,
        blank=True,
        editable=False,
        help_text="whpk_…: what receivers verify v1a signatures with. Not a secret.",
    )
    shared_secret_value_encrypted = models.TextField(
        "shared-secret value (encrypted)",
        blank=True,
        editable=False,
        help_text="A value the customer chose for the shared-secret header; empty: the signing secret is sent.",
    )
    # A secret the body itself carries ({{secret.token}} in a template, e.g. store-notice's "token"), which
    # receivers check with POST /api/tokens/validate/. Rotated like the signing secret.
    body_token_encrypted = models.TextField("body token (encrypted)", blank=True, editable=False)
    previous_body_token_encrypted = models.TextField("previous body token (encrypted)", blank=True, editable=False)
    previous_body_token_expires_at = models.DateTimeField(
        "previous body token valid until",
        null=True,
        blank=True,
        editable=False,
    )
    # Every delivery option in one validated JSON value (hooks.contracts): read through ``delivery_contract``
    # and its ``effective()``, validated by ``contracts.validate_contract``, rendered from ``contracts.OPTIONS``.
    # What the workers write about an endpoint (breaker, token bucket, pause) lives in deliveries.EndpointRuntime.
    contract = models.JSONField(
        "delivery contract",
        default=dict,
        blank=True,
        help_text="Every delivery option ({} = the HOOKLINE defaults): preset, policy, body, batch, control, "
        "request and signature sections (docs/endpoint-options.md).",
    )
    contact_emails = models.CharField(
        "alert contacts",
        max_length=contacts.MAX_LENGTH,
        blank=True,
        validators=[contacts.validate],
        help_text="Comma-separated addresses told by email when this endpoint is failing, disabled or recovered "
        "(besides its organisation's contacts).",
    )

    state = models.CharField("state", max_length=20, choices=State.choices, default=State.NEW, db_index=True)
    state_changed_at = models.DateTimeField("state changed", default=timezone.now)
    state_reason = models.CharField("state reason", max_length=500, blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("updated", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="created by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="updated by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = WebhookQuerySet.as_manager()

    class Meta:
        verbose_name = "endpoint"
        verbose_name_plural = "endpoints"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "state"], name="webhook_org_state")]

    def __str__(self) -> str:
        return self.name

    # --- secrets ---------------------------------------------------------------------------
    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value)

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The current secret, plus the previous one while its rotation grace period lasts."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret_encrypted and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(crypto.decrypt(self.previous_secret_encrypted))
        return secrets

    # --- the body token ---------------------------------------------------------------------
    @property
    def body_token(self) -> str:
        return crypto.decrypt(self.body_token_encrypted)

    def body_tokens(self, now: datetime | None = None) -> list[str]:
        """The current body token, plus the previous one while its rotation grace period lasts (for validation)."""
        now = now or timezone.now()
        tokens = [self.body_token] if self.body_token_encrypted else []
        if (
            self.previous_body_token_encrypted
            and self.previous_body_token_expires_at
            and self.previous_body_token_expires_at > now
        ):
            tokens.append(crypto.decrypt(self.previous_body_token_encrypted))
        return tokens

    def ensure_body_token(self) -> None:
        """An endpoint whose body carries {{secret.token}} gets its token once (kept if the template changes)."""
        if self.delivery_contract.body.places_token and not self.body_token_encrypted:
            from .signing import generate_body_token  # signing is pure; the model only stores what it makes

            self.body_token_encrypted = crypto.encrypt(generate_body_token())

    def begin_body_token_rotation(self, new_token: str, grace_seconds: float) -> None:
        if self.body_token_encrypted:
            self.previous_body_token_encrypted = self.body_token_encrypted
            self.previous_body_token_expires_at = timezone.now() + timedelta(seconds=grace_seconds)
        self.body_token_encrypted = crypto.encrypt(new_token)

    # --- delivery contract -----------------------------------------------------------------
    @property
    def delivery_contract(self) -> contracts.Contract:
        """The parsed contract, once per loaded row (the worker reloads endpoints for every batch)."""
        cached = self.__dict__.get("_contract")
        if cached is None or cached[0] is not self.contract:
            cached = self.__dict__["_contract"] = (self.contract, contracts.parse(self.contract))
        return cached[1]

    @property
    def signing_key(self) -> str:
        return crypto.decrypt(self.signing_key_encrypted) if self.signing_key_encrypted else ""

    def ensure_keypair(self) -> None:
        """An endpoint that signs with ed25519 gets its key pair once (kept if the option is switched off and on)."""
        if self.delivery_contract.signature.asymmetric and not self.signing_key_encrypted:
            from .signing import generate_keypair  # signing is pure; the model only stores its keys

            signing_key, self.public_key = generate_keypair()
            self.signing_key_encrypted = crypto.encrypt(signing_key)

    @property
    def shared_secret_value(self) -> str:
        """What the shared-secret header carries: the customer's own value, or else the current signing secret."""
        if self.shared_secret_value_encrypted:
            return crypto.decrypt(self.shared_secret_value_encrypted)
        return self.secret

    # --- URL and Basic auth ----------------------------------------------------------------
    @property
    def auth_password(self) -> str:
        return crypto.decrypt(self.auth_password_encrypted)

    def set_url(self, url: str) -> None:
        """Store the URL without credentials; ``user:pass@`` inside it becomes Basic auth.

        ``user:***@`` (the masked URL as displayed, sent back by a form or an API client) keeps the
        stored password. A URL without credentials keeps them only if it is unchanged: credentials
        meant for one URL are never sent to another.
        """
        clean, username, password = split_credentials(url)
        changed = clean != self.url
        if changed and self.pk:
            states.transition(self, states.URL_CHANGED, commit=False)
        self.url = clean
        if username or password:
            if not (password == MASK and username == self.auth_username and self.auth_password_encrypted):
                self.auth_username, self.auth_password_encrypted = username, crypto.encrypt(password)
        elif changed:
            self.auth_username, self.auth_password_encrypted = "", ""

    @property
    def masked_url(self) -> str:
        return mask_url(self.url, self.auth_username)

    # --- state -----------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.state in self.RECEIVING_STATES

    def begin_rotation(self, new_secret: str, grace_seconds: float) -> None:
        self.previous_secret_encrypted = self.secret_encrypted
        self.previous_secret_expires_at = timezone.now() + timedelta(seconds=grace_seconds)
        self.secret = new_secret
