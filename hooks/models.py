"""Webhook endpoints: URL, subscriptions, encrypted secrets, signature options and state."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from events.models import Organisation
from hookline.querysets import TenantQuerySet

from . import crypto, patterns


class WebhookQuerySet(TenantQuerySet):
    def receiving(self):
        """Endpoints that get events: ``new`` and ``valid`` ones."""
        return self.filter(state__in=Webhook.RECEIVING_STATES)

    def for_organisation(self, organisation: Organisation | int | None):
        return self.filter(organisation=organisation) if organisation else self.filter(organisation__isnull=True)

    def for_event(self, key: str, organisation: Organisation | int | None) -> list["Webhook"]:
        """The endpoints of this tenant whose patterns select ``key`` (matched in Python: patterns are JSON)."""
        candidates = self.for_organisation(organisation).only("id", "event_types")
        return [webhook for webhook in candidates if patterns.matches_any(webhook.event_types, key)]

    def excluding_deactivated(self):
        """What endpoint lists show unless deactivated endpoints are asked for."""
        return self.exclude(state=Webhook.State.DEACTIVATED)


def default_event_types() -> list[str]:
    return ["*"]


class Webhook(models.Model):
    """One receiver's endpoint."""

    class State(models.TextChoices):
        NEW = "new", "new (not yet proven)"
        VALID = "valid", "valid"
        INVALID = "invalid", "invalid (failing)"
        DEACTIVATED = "deactivated", "deactivated"

    RECEIVING_STATES = (State.NEW, State.VALID)

    organisation = models.ForeignKey(
        Organisation, verbose_name="organisation", null=True, blank=True,
        on_delete=models.CASCADE, related_name="webhooks",
    )
    name = models.CharField("name", max_length=200)
    description = models.TextField("description", blank=True)
    url = models.URLField(
        "URL", max_length=2000,
        help_text="Where events are POSTed. Credentials in the URL (https://user:pass@host/) are moved "
        "to Basic auth and the password is never shown again.",
    )
    auth_username = models.CharField("Basic auth user", max_length=200, blank=True)
    auth_password_encrypted = models.TextField("Basic auth password (encrypted)", blank=True, editable=False)
    event_types = models.JSONField(
        "event types", default=default_event_types,
        help_text="Patterns: exact keys, * for everything, or * as a whole segment (user.*).",
    )
    secret_encrypted = models.TextField("secret (encrypted)", editable=False)
    previous_secret_encrypted = models.TextField("previous secret (encrypted)", blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField("previous secret signs until", null=True, blank=True)
    standard_signature = models.BooleanField(
        "Standard Webhooks signature", default=True, help_text="Send webhook-id/-timestamp/-signature headers.",
    )
    github_signature = models.BooleanField(
        "GitHub signature", default=False, help_text="Also send X-Hub-Signature-256: sha256=<hex HMAC of body>.",
    )
    shared_secret_header = models.CharField(
        "shared-secret header", max_length=100, blank=True,
        help_text="If set, the plain secret is sent in this header (e.g. X-OBC-Secret).",
    )
    headers = models.JSONField("extra headers", default=dict, blank=True, help_text="Static headers sent with every request.")
    payload_version = models.CharField(
        "payload version", max_length=50, blank=True,
        help_text="Older receivers can keep an older payload shape (e.g. v1); empty means the current one.",
    )
    proxy_url = models.CharField(
        "proxy", max_length=500, blank=True, help_text="Outbound proxy for this endpoint; overrides HOOKLINE['PROXY'].",
    )
    state = models.CharField("state", max_length=20, choices=State.choices, default=State.NEW, db_index=True)
    state_changed_at = models.DateTimeField("state changed", default=timezone.now)
    state_reason = models.CharField("state reason", max_length=500, blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("updated", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="created by", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="updated by", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    objects = WebhookQuerySet.as_manager()

    class Meta:
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

    def signing_secrets(self, now=None) -> list[str]:
        """The current secret, plus the previous one while its rotation grace period lasts."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret_encrypted and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(crypto.decrypt(self.previous_secret_encrypted))
        return secrets

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
        from .urlguard import MASK, split_credentials

        clean, username, password = split_credentials(url)
        changed = clean != self.url
        if changed and self.pk:
            self.set_state(self.State.NEW, "URL changed")
        self.url = clean
        if username or password:
            if not (password == MASK and username == self.auth_username and self.auth_password_encrypted):
                self.auth_username, self.auth_password_encrypted = username, crypto.encrypt(password)
        elif changed:
            self.auth_username, self.auth_password_encrypted = "", ""

    @property
    def masked_url(self) -> str:
        from .urlguard import mask_url

        return mask_url(self.url, self.auth_username)

    # --- state -----------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.state in self.RECEIVING_STATES

    def set_state(self, state: str, reason: str = "") -> None:
        self.state, self.state_reason, self.state_changed_at = state, reason[:500], timezone.now()

    def begin_rotation(self, new_secret: str, grace_seconds: float) -> None:
        self.previous_secret_encrypted = self.secret_encrypted
        self.previous_secret_expires_at = timezone.now() + timedelta(seconds=grace_seconds)
        self.secret = new_secret
