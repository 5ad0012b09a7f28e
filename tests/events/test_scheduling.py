"""Scheduled events: cron arithmetic in a time zone, missed runs, one emit per run, and their admin and API."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

import events
from events import scheduling
from events.models import Event, ScheduledEvent

pytestmark = pytest.mark.django_db
UTC = UTC


@pytest.fixture
def daily_tokyo(event_type, organisation):
    event_type("usage.report")

    def create(now, **fields):
        fields.setdefault("payload", {"kind": "daily"})
        schedule = ScheduledEvent(
            name="Daily usage",
            organisation=organisation,
            event_type="usage.report",
            cron="0 4 * * *",
            timezone="Asia/Tokyo",
            **fields,
        )
        return scheduling.save_schedule(schedule, now=now)

    return create


def test_next_run_is_04_00_in_tokyo():
    cron, zone = scheduling.parse_cron("0 4 * * *"), scheduling.parse_timezone("Asia/Tokyo")
    assert scheduling.next_after(cron, zone, datetime(2026, 11, 30, 5, tzinfo=UTC)) == datetime(
        2026, 11, 30, 19, tzinfo=UTC
    )
    assert scheduling.next_after(cron, zone, datetime(2026, 11, 30, 19, tzinfo=UTC)) == datetime(
        2026, 12, 1, 19, tzinfo=UTC
    )


def test_a_due_run_emits_once_with_its_idempotency_key(daily_tokyo):
    # given
    schedule = daily_tokyo(datetime(2026, 11, 30, 5, tzinfo=UTC))
    run_at = datetime(2026, 11, 30, 19, 0, 10, tzinfo=UTC)
    # when
    first = scheduling.run_due(run_at)
    again = scheduling.run_due(run_at)
    # then
    assert len(first.emitted) == 1 and again.emitted == []
    event = Event.objects.get()
    assert (event.type, event.payload, event.idempotency_key) == (
        "usage.report",
        {"kind": "daily"},
        f"schedule:{schedule.pk}:2026-11-30T19:00:00+00:00",
    )
    schedule.refresh_from_db()
    assert schedule.next_run_at == datetime(2026, 12, 1, 19, tzinfo=UTC)
    assert schedule.last_event_id == event.id


@pytest.mark.parametrize(
    ("policy", "emitted_for"),
    [
        ("skip", []),
        ("catch_up_once", ["2026-12-02T19:00:00+00:00"]),
    ],
)
def test_missed_runs_after_downtime(daily_tokyo, policy, emitted_for):
    daily_tokyo(datetime(2026, 11, 30, 5, tzinfo=UTC), missed_runs=policy)
    result = scheduling.run_due(datetime(2026, 12, 3, 5, tzinfo=UTC))  # three runs missed
    assert [event.idempotency_key.split(":", 2)[2] for event in Event.objects.all()] == emitted_for
    assert result.skipped == 3 - len(emitted_for)


def test_payload_function(daily_tokyo):
    @events.schedule_payload("usage.of_the_day")
    def usage(scheduled_at, schedule):
        return {"day": scheduled_at.date().isoformat(), "schedule": schedule.name}

    daily_tokyo(datetime(2026, 11, 30, 5, tzinfo=UTC), payload=None)
    ScheduledEvent.objects.update(payload_function="usage.of_the_day")
    scheduling.run_due(datetime(2026, 11, 30, 19, 1, tzinfo=UTC))
    assert Event.objects.get().payload == {"day": "2026-12-01", "schedule": "Daily usage"}  # Tokyo's date


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"cron": "0 4 * *"}, "cron", "5 fields"),
        ({"cron": "0 25 * * *"}, "cron", "25"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a time zone"),
        ({"event_type": "no.such"}, "event_type", "Unknown event type"),
        ({"payload_function": "nope"}, "payload_function", "No payload function"),
    ],
)
def test_api_refuses_a_bad_schedule_with_the_field_and_reason(api, event_type, fields, field, reason):
    event_type("usage.report")
    body = {"name": "Daily", "event_type": "usage.report", "cron": "0 4 * * *", "timezone": "Asia/Tokyo", **fields}
    response = api.post("/api/scheduled-events/", body, format="json")
    assert response.status_code == 400
    assert reason in response.content.decode() and field in response.content.decode()


def test_a_schedule_of_a_reserved_hookline_type_is_refused_in_the_api_and_the_admin(api, admin_client, event_type):
    event_type("hookline.endpoint.invalid")
    body = {"name": "Forged", "event_type": "hookline.endpoint.invalid", "cron": "0 4 * * *", "timezone": "UTC"}
    response = api.post("/api/scheduled-events/", body, format="json")
    assert response.status_code == 400 and "operational event types" in response.content.decode()
    form = {**body, "payload": "{}", "payload_function": "", "missed_runs": "skip", "enabled": "on"}
    page = admin_client.post(reverse("admin:events_scheduledevent_add"), form)
    assert page.status_code == 200 and "operational event types" in page.content.decode()
    assert not ScheduledEvent.objects.exists()


def test_api_creates_a_schedule_and_plans_its_next_run(api, event_type, organisation):
    event_type("usage.report")
    body = {
        "name": "Daily",
        "event_type": "usage.report",
        "cron": "0 4 * * *",
        "timezone": "Asia/Tokyo",
        "payload": {"kind": "daily"},
        "missed_runs": "catch_up_once",
    }
    response = api.post("/api/scheduled-events/", body, format="json")
    assert response.status_code == 201, response.content
    schedule = ScheduledEvent.objects.get()
    assert schedule.organisation == organisation
    assert schedule.next_run_at.astimezone(scheduling.parse_timezone("Asia/Tokyo")).hour == 4


def test_admin_creates_a_schedule(admin_client, event_type):
    event_type("usage.report")
    response = admin_client.post(
        reverse("admin:events_scheduledevent_add"),
        {
            "name": "Daily",
            "event_type": "usage.report",
            "cron": "0 4 * * *",
            "timezone": "Asia/Tokyo",
            "payload": '{"kind": "daily"}',
            "payload_function": "",
            "missed_runs": "skip",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ScheduledEvent.objects.get().next_run_at is not None
    refused = admin_client.post(
        reverse("admin:events_scheduledevent_add"),
        {
            "name": "Bad",
            "event_type": "usage.report",
            "cron": "every day",
            "timezone": "UTC",
            "payload": "{}",
            "missed_runs": "skip",
        },
    )
    assert refused.status_code == 200 and "a cron expression has 5 fields" in refused.content.decode()
