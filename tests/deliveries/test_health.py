"""The health report: when the sweeper and the periodic check last ran, the backlog, and where it shows."""

import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from deliveries import heartbeat, pulse, sweeper
from deliveries.models import Delivery, Pulse
from events.models import Event
from tests.support.overrides import hookline

pytestmark = pytest.mark.django_db

DELIVERIES = "/admin/deliveries/delivery/"


def ran(job: str, seconds_ago: float) -> None:
    pulse.record(job, now=timezone.now() - timedelta(seconds=seconds_ago))


def test_recent_jobs_are_not_stale_old_and_missing_ones_are():
    # given: the check ran a moment ago; the sweep never
    ran(Pulse.Job.CHECK, 1)
    assert pulse.stale_jobs() == {Pulse.Job.SWEEP: None}
    # when: the check last ran longer ago than HEALTH_STALE_AFTER
    ran(Pulse.Job.CHECK, 500)
    ran(Pulse.Job.SWEEP, 5)
    # then
    assert list(pulse.stale_jobs()) == [Pulse.Job.CHECK]
    assert 499 < pulse.stale_jobs()[Pulse.Job.CHECK] < 510


def test_the_periodic_check_is_not_expected_when_it_is_switched_off():
    ran(Pulse.Job.SWEEP, 1)
    with hookline(WORKER_CHECK_INTERVAL=0):
        assert pulse.stale_jobs() == {}


def test_the_periodic_check_and_the_sweeper_record_when_they_ran():
    # when
    heartbeat.check()
    sweeper.sweep()
    # then: one row each, just now
    rows = dict(Pulse.objects.values_list("job", "at"))
    assert set(rows) == {"check", "sweep"}
    assert all(timezone.now() - at < timedelta(seconds=5) for at in rows.values())
    heartbeat.check()
    assert Pulse.objects.count() == 2


def test_the_report_counts_the_backlog_and_ages_its_oldest_item(make_webhook, organisation):
    # given: both jobs fresh, one event waiting, one delivery due for 30 s and one due later
    ran(Pulse.Job.CHECK, 1)
    ran(Pulse.Job.SWEEP, 1)
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    now = timezone.now()
    Event.objects.create(type="a.b", payload={}, organisation=organisation, created_at=now - timedelta(seconds=3))
    sent = Event.objects.create(type="a.b", payload={}, organisation=organisation, created_at=now, dispatched_at=now)
    Delivery.objects.create(event=sent, webhook=webhook, created_at=now, next_attempt_at=now - timedelta(seconds=30))
    # when
    report = pulse.report()
    # then
    assert report.healthy
    figures = report.as_dict()
    assert figures["undispatched_events"] == 1 and 2 < figures["oldest_undispatched_seconds"] < 10
    assert figures["due_deliveries"] == 1 and 29 < figures["oldest_due_seconds"] < 40
    assert figures["last_check_seconds_ago"] < 5 and figures["last_sweep_seconds_ago"] < 5


def test_a_delivery_due_too_long_is_a_problem(make_webhook, organisation):
    ran(Pulse.Job.CHECK, 1)
    ran(Pulse.Job.SWEEP, 1)
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    now = timezone.now()
    event = Event.objects.create(type="a.b", payload={}, organisation=organisation, created_at=now, dispatched_at=now)
    Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now - timedelta(hours=1))
    report = pulse.report()
    assert not report.healthy and report.problems == ["A delivery has been due for 3600 s."]


def test_the_command_exits_zero_when_healthy_and_prints_json(capsys):
    ran(Pulse.Job.CHECK, 1)
    ran(Pulse.Job.SWEEP, 2)
    call_command("hookline_health", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert figures["healthy"] is True and figures["problems"] == []
    assert figures["due_deliveries"] == 0 and figures["oldest_due_seconds"] is None


def test_the_command_exits_non_zero_when_the_sweeper_has_not_run(capsys):
    ran(Pulse.Job.CHECK, 1)
    ran(Pulse.Job.SWEEP, 3600)
    with pytest.raises(CommandError) as raised:
        call_command("hookline_health")
    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert "UNHEALTHY" in out and "last sweep:           3600" in out and "sweeper (beat) last ran 3600 s ago" in out


def test_stale_jobs_are_logged_at_most_once_a_minute_per_process(caplog, monkeypatch):
    monkeypatch.setattr(pulse, "_warned_at", 0.0)
    ran(Pulse.Job.CHECK, 1)
    with caplog.at_level(logging.WARNING, logger="deliveries.pulse"):
        pulse.warn_if_stale()
        pulse.warn_if_stale()
    assert [r.getMessage() for r in caplog.records] == ["Hookline health: The sweeper (beat) has never run."]


def test_the_delivery_log_warns_when_a_safety_net_has_not_run(admin_client):
    # given: the check is fresh, the sweeper last ran an hour ago
    ran(Pulse.Job.CHECK, 1)
    ran(Pulse.Job.SWEEP, 3600)
    # when
    page = admin_client.get(DELIVERIES)
    # then
    shown = [str(message) for message in page.context["messages"]]
    assert len(shown) == 1 and shown[0].startswith("The sweeper (beat) last ran 3600 s ago")
    # and nothing once both run
    ran(Pulse.Job.SWEEP, 1)
    assert not list(admin_client.get(DELIVERIES).context["messages"])
