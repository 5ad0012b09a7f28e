"""What alerting remembers: each endpoint's current trouble (worker-written) and every notification sent."""

from __future__ import annotations

from django.db import models

from events.models import Organisation
from hookline.querysets import TenantQuerySet
from hooks.models import Webhook


class AlertState(models.Model):
    """An endpoint's current failing episode, written by the workers; a row only for endpoints that failed.

    Also the lock that makes the alert window hold across workers: a notification about an endpoint
    is decided with this row locked (deliveries/alerts/notify.py).
    """

    webhook = models.OneToOneField(
        Webhook,
        verbose_name="endpoint",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="alert_state",
    )
    failing_since = models.DateTimeField("failing since", null=True, blank=True)
    failed_attempts = models.PositiveIntegerField("consecutive failed attempts", default=0)
    last_error = models.CharField("last error", max_length=500, blank=True)
    last_status_code = models.PositiveIntegerField("last status code", null=True, blank=True)
    # A failing or disabled alert went out in this episode: its end is worth a "recovered".
    warned = models.BooleanField("owners warned", default=False)

    class Meta:
        app_label = "deliveries"
        verbose_name = "alert state"

    def __str__(self) -> str:
        return f"endpoint {self.webhook_id}: {self.failed_attempts} failed attempt(s)"


class NotificationQuerySet(TenantQuerySet["Notification"]):
    pass


class Notification(models.Model):
    """One operational moment told to someone: the event, the email and the signal it became."""

    class EmailStatus(models.TextChoices):
        NONE = "", "no email"
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    webhook = models.ForeignKey(
        Webhook,
        verbose_name="endpoint",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField("kind", max_length=32)
    # What one moment is about beyond its endpoint (a secret's expiry): told once, not once per window.
    subject_key = models.CharField("about", max_length=100, blank=True)
    created_at = models.DateTimeField("when", db_index=True)
    summary = models.CharField("summary", max_length=500)
    payload = models.JSONField("event data", default=dict)
    # The event channel: the operational events emitted and the endpoints they were addressed to.
    event_ids = models.JSONField("events", default=list, blank=True)
    event_endpoints = models.JSONField("to endpoints", default=list, blank=True)
    # The email channel.
    emailed_to = models.CharField("emailed to", max_length=1000, blank=True)
    email_status = models.CharField("email", max_length=10, choices=EmailStatus.choices, blank=True, default="")
    email_sent_at = models.DateTimeField("email sent", null=True, blank=True)
    email_error = models.CharField("email error", max_length=500, blank=True)
    # The Django signal (deliveries.signals), sent after the commit.
    signalled = models.BooleanField("signal sent", default=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        app_label = "deliveries"
        verbose_name = "alert"
        verbose_name_plural = "alerts"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["webhook", "kind", "-created_at"], name="notification_window")]

    def __str__(self) -> str:
        return self.summary
