"""Tenants, the event-type catalog, and Event: the outbox row that emit() writes."""

from datetime import datetime
from typing import Self

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from hookline import contacts
from hookline.deepjson import TolerantDecoder
from hookline.querysets import TenantQuerySet

from .ids import new_event_id


class OrganisationQuerySet(TenantQuerySet["Organisation"]):
    members_path = "members"


class Organisation(models.Model):
    """A tenant. Every endpoint, event and delivery belongs to one (or to none, on a single-tenant site)."""

    name = models.CharField("name", max_length=200)
    slug = models.SlugField("slug", unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="hookline_organisations",
        blank=True,
        help_text="Users who may see and manage this organisation's webhooks.",
    )
    contact_emails = models.CharField(
        "alert contacts",
        max_length=contacts.MAX_LENGTH,
        blank=True,
        validators=[contacts.validate],
        help_text="Comma-separated addresses told by email when any of this organisation's endpoints is in "
        "trouble (failing, disabled, recovered...). Empty: no email (endpoints may name their own).",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EventType(models.Model):
    """An entry of the catalog: which keys emit() accepts, with an optional JSON Schema."""

    key = models.CharField(
        "key",
        max_length=200,
        unique=True,
        help_text="Dotted name, e.g. invoice.paid. Emitted keys may add a sub-key after a last dot "
        "when 'accepts sub-keys' is set (HM_EmployeeHistoryDivision_Created.1001).",
    )
    description = models.TextField("description", blank=True)
    schema = models.JSONField(
        "JSON Schema", null=True, blank=True, decoder=TolerantDecoder, help_text="Payloads must validate against it."
    )
    accepts_subkeys = models.BooleanField("accepts sub-keys", default=False)
    deprecated = models.BooleanField("deprecated", default=False)
    declared_in_code = models.BooleanField(
        "declared in code",
        default=False,
        editable=False,
        help_text="Synchronised from events.register()/hookline_events.py on migrate.",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class EventQuerySet(TenantQuerySet["Event"]):
    def undispatched(self) -> Self:
        return self.filter(dispatched_at__isnull=True)


class Event(models.Model):
    """One emitted event; its id is the ``webhook-id`` every attempt of every delivery carries."""

    id = models.CharField("id", primary_key=True, max_length=40, default=new_event_id, editable=False)
    type = models.CharField("event type", max_length=200, db_index=True)
    # Any stored row reads back, even one nested deeper than json's recursion allows (hookline.deepjson).
    payload = models.JSONField("payload", encoder=DjangoJSONEncoder, decoder=TolerantDecoder)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    # NULL, not "": the unique constraints below must let any number of events have no key
    idempotency_key = models.CharField("idempotency key", max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField("created", db_index=True)
    target_endpoints = models.JSONField(
        "explicit endpoints",
        null=True,
        blank=True,
        help_text="Ids of the only endpoints that receive it (emit(endpoints=[…])); empty: every subscriber.",
    )
    dispatched_at = models.DateTimeField(
        "dispatched",
        null=True,
        blank=True,
        help_text="When its deliveries were created (fan-out).",
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=Q(organisation__isnull=False),
                name="event_idempotency_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(organisation__isnull=True),
                name="event_idempotency_without_organisation",
            ),
        ]
        indexes = [
            # The sweeper's query: events whose fan-out never ran.
            models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class ScheduledEventQuerySet(TenantQuerySet["ScheduledEvent"]):
    def due(self, now: datetime) -> Self:
        return self.filter(enabled=True, next_run_at__lte=now)


class ScheduledEvent(models.Model):
    """An event type emitted on a cron schedule in a time zone; each run is an ordinary event (events.scheduling)."""

    class MissedRuns(models.TextChoices):
        SKIP = "skip", "skip them"
        CATCH_UP_ONCE = "catch_up_once", "catch up once (one event for the latest missed run)"

    name = models.CharField("name", max_length=200)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scheduled_events",
    )
    event_type = models.CharField("event type", max_length=200, help_text="A key of the catalog, e.g. usage.report.")
    cron = models.CharField(
        "cron expression",
        max_length=200,
        help_text="minute hour day-of-month month day-of-week, e.g. 0 4 * * * (every day at 04:00).",
    )
    timezone = models.CharField("time zone", max_length=64, default="UTC", help_text="An IANA name, e.g. Asia/Tokyo.")
    payload = models.JSONField(
        "fixed payload",
        null=True,
        blank=True,
        encoder=DjangoJSONEncoder,
        decoder=TolerantDecoder,
        help_text="The JSON object every run emits (when no payload function is chosen).",
    )
    payload_function = models.CharField(
        "payload function",
        max_length=200,
        blank=True,
        help_text="A function registered with events.schedule_payload(name); it returns each run's payload.",
    )
    missed_runs = models.CharField(
        "missed runs",
        max_length=20,
        choices=MissedRuns.choices,
        default=MissedRuns.SKIP,
        help_text=(
            "Runs missed by more than HOOKLINE SCHEDULE_GRACE seconds (downtime): skipped, or one event for the latest."
        ),
    )
    enabled = models.BooleanField("enabled", default=True)
    next_run_at = models.DateTimeField("next run", null=True, blank=True, help_text="The next scheduled time (UTC).")
    last_run_at = models.DateTimeField("last run", null=True, blank=True, help_text="The scheduled time last handled.")
    last_event_id = models.CharField("last event", max_length=40, blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    objects = ScheduledEventQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "scheduled event"
        indexes = [models.Index(fields=["next_run_at"], condition=Q(enabled=True), name="scheduled_event_due")]

    def __str__(self) -> str:
        return self.name
