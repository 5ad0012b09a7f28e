"""The delivery log: one Delivery per (event, endpoint), one Attempt per HTTP try."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from django.db import models
from django.db.models import Q

from events.models import Event
from hookline.querysets import TenantQuerySet
from hooks.models import Webhook


class DeliveryQuerySet(TenantQuerySet["Delivery"]):
    members_path = "webhook__organisation__members"

    def pending(self) -> Self:
        return self.filter(status=Delivery.Status.PENDING)

    def unleased(self, now: datetime) -> Self:
        """No worker holds a lease on them: never claimed, or the claim ran out."""
        return self.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))

    def claimable(self, now: datetime) -> Self:
        """What a worker may claim now: pending, unleased and due (never before its due time)."""
        return self.pending().unleased(now).filter(next_attempt_at__lte=now)

    def stranded(self, now: datetime, stale: datetime) -> Self:
        """What a lost message or a killed worker left behind: pending, unleased and due since before ``stale``."""
        return self.pending().unleased(now).filter(next_attempt_at__lt=stale)


class Delivery(models.Model):
    """One event on its way to one endpoint, with its retry state."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"
        HELD = "held", "held (endpoint paused)"

    # No separate FK indexes: the unique (event, webhook) and the (webhook, -created_at) indexes lead with them.
    event = models.ForeignKey(
        Event, verbose_name="event", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    webhook = models.ForeignKey(
        Webhook, verbose_name="endpoint", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("attempts", default=0, help_text="Attempts in the current round of retries.")
    total_attempts = models.PositiveIntegerField(
        "total attempts", default=0, help_text="All attempts, redeliveries included."
    )
    next_attempt_at = models.DateTimeField("next attempt", null=True, blank=True)
    claimed_until = models.DateTimeField(
        "claimed until",
        null=True,
        blank=True,
        help_text="A worker owns the delivery until then (lease).",
    )
    claim_token = models.CharField("claim token", max_length=32, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField("last response code", null=True, blank=True)
    last_error = models.CharField("last error", max_length=500, blank=True)
    batch_id = models.CharField(
        "batch",
        max_length=40,
        blank=True,
        help_text="The webhook-id of the batch (one POST of several events) this delivery travels in; empty: alone.",
    )
    created_at = models.DateTimeField("created", db_index=True)
    completed_at = models.DateTimeField("completed", null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    # Never stored: set on a loaded row by the code that handles it. A rate limit's token comes ``send_after``
    # seconds from now, this delivery is a circuit breaker's probe (both deliveries/control.py), it was left at
    # fan-out because its endpoint's in-flight cap had no room (deliveries/fanout.py).
    send_after: float = 0.0
    breaker_probe: bool = False
    capped: bool = False

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "webhook"], name="delivery_once_per_endpoint")]
        indexes = [
            # The sweeper's query: pending deliveries by due time.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due"),
            # The admin's and API's per-endpoint log, newest first.
            models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_recent"),
            models.Index(fields=["status", "-created_at"], name="delivery_status_recent"),
            # A batch's members: claimed together for a retry, listed together in the inspector.
            models.Index(fields=["batch_id"], condition=~Q(batch_id=""), name="delivery_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.webhook_id}"


class Attempt(models.Model):
    """One HTTP try: exactly what was sent and what came back (secrets masked, response capped)."""

    # Indexed by (delivery, number) below.
    delivery = models.ForeignKey(
        Delivery, verbose_name="delivery", on_delete=models.CASCADE, related_name="attempt_log", db_index=False
    )
    number = models.PositiveIntegerField("attempt number")
    created_at = models.DateTimeField("sent at")
    request_url = models.CharField("request URL", max_length=2000)
    request_headers = models.JSONField("request headers", default=dict)
    request_body = models.TextField("request body")
    # Like response bodies, a request body is kept up to HOOKLINE["MAX_RESPONSE_BYTES"] (messages.logged_body).
    request_truncated = models.BooleanField("request truncated", default=False)
    response_status = models.PositiveSmallIntegerField("response status", null=True, blank=True)
    response_headers = models.JSONField("response headers", default=dict, blank=True)
    response_body = models.TextField("response body", blank=True)
    response_truncated = models.BooleanField("response truncated", default=False)
    duration_ms = models.PositiveIntegerField("duration (ms)", default=0)
    error = models.TextField("error", blank=True)
    error_detail = models.TextField(
        "error details",
        blank=True,
        help_text="The raw exception behind the error, for developers.",
    )
    succeeded = models.BooleanField("succeeded", default=False)
    next_retry_at = models.DateTimeField("next retry", null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        indexes = [models.Index(fields=["delivery", "number"], name="attempt_delivery_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


class Pulse(models.Model):
    """When a periodic job last ran, one row per job: the health report reads them (deliveries/pulse.py).

    A database row, not the cache or the broker: the database is the one store every web process,
    worker and beat shares whatever the deployment (the default cache is per process, and RabbitMQ
    has no key-value store); one UPDATE by primary key per run costs less than the job's own query.
    """

    class Job(models.TextChoices):
        SWEEP = "sweep", "sweeper (beat)"
        CHECK = "check", "workers' periodic check"

    job = models.CharField("job", max_length=16, primary_key=True, choices=Job.choices)
    at = models.DateTimeField("last run")

    class Meta:
        verbose_name = "periodic job"

    def __str__(self) -> str:
        return f"{self.get_job_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class EndpointRuntime(models.Model):
    """What the workers and pause/resume keep about one endpoint: breaker, token bucket, pause.

    Apart from the ``Webhook`` row that people edit, so that an admin or API save never overwrites a
    worker's write (and the reverse). Created lazily, on the first write: an endpoint without one is
    closed, unpaused and has a full bucket. Loaded with the endpoint (``select_related("runtime")``)
    where deliveries are claimed, so reading it costs no query.
    """

    class Breaker(models.TextChoices):
        CLOSED = "closed", "closed"
        OPEN = "open", "open"
        HALF_OPEN = "half-open", "half-open"

    webhook = models.OneToOneField(
        Webhook,
        verbose_name="endpoint",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="runtime",
    )
    paused = models.BooleanField(
        "paused",
        default=False,
        help_text=(
            "New deliveries are kept as held and sent, in order, on resume (unlike disabling, which records nothing)."
        ),
    )
    paused_at = models.DateTimeField("paused since", null=True, blank=True)
    breaker_state = models.CharField("breaker", max_length=20, choices=Breaker.choices, default=Breaker.CLOSED)
    breaker_failures = models.PositiveIntegerField("consecutive failures", default=0)
    breaker_changed_at = models.DateTimeField("breaker changed", null=True, blank=True)
    breaker_until = models.DateTimeField(
        "breaker waits until",
        null=True,
        blank=True,
        help_text="Open: the end of the cool-down. Half-open: when the probe's claim runs out.",
    )
    breaker_reason = models.CharField("breaker reason", max_length=500, blank=True)
    # The database token bucket, used when the broker is not Redis.
    rate_tokens = models.FloatField(null=True, blank=True)
    rate_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "endpoint runtime state"

    def __str__(self) -> str:
        return f"runtime of endpoint {self.webhook_id}"


# What an endpoint without a runtime row reads as: closed, unpaused (never saved).
IDLE = EndpointRuntime()


def runtime_of(webhook: Webhook) -> EndpointRuntime:
    """The endpoint's runtime state as loaded with it (``select_related("runtime")``), or the idle one."""
    try:
        return webhook.runtime
    except EndpointRuntime.DoesNotExist:
        return IDLE


# Operational alerts (deliveries/alerts): their models live with their package.
from .alerts.models import AlertState, Notification  # noqa: E402,F401
