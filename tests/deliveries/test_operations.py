"""Operations: metrics from the delivery path, /metrics access, JSON log lines, and retention pruning."""

import json
import logging
import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from deliveries import health, metrics, retention
from deliveries.models import Attempt, Delivery, Notification
from events.models import Event
from hookline.jsonlog import JsonFormatter
from tests.support.overrides import hookline
from tests.support.receiver import always
from tests.support.running import deliver

pytestmark = pytest.mark.django_db


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def delivery_to(event_type, organisation):
    event_type("invoice.paid")

    def create(webhook, *, created=None, status="pending", completed=None, dispatched=True):
        now = created or timezone.now()
        event = Event.objects.create(
            type="invoice.paid",
            payload={"invoice": 1},
            organisation=organisation,
            created_at=now,
            dispatched_at=now if dispatched else None,
        )
        return Delivery.objects.create(
            event=event, webhook=webhook, created_at=now, next_attempt_at=now, status=status, completed_at=completed
        )

    return create


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- metrics and log lines from record() ------------------------------------------------------
def test_recorded_attempts_count_outcomes_durations_and_latency(receiver, make_webhook, delivery_to):
    # given
    ok, _ = make_webhook(receiver.on("/ok", always(200)))
    broken, _ = make_webhook(f"http://127.0.0.1:{dead_port()}/in")
    for webhook in (ok, ok, broken):
        delivery_to(webhook)
    before = {outcome: sample("hookline_deliveries_total", outcome=outcome) for outcome in metrics.OUTCOMES}
    attempts_before = sample("hookline_attempt_duration_seconds_count")
    latency_before = sample("hookline_delivery_latency_seconds_count")
    # when
    deliver()
    # then
    assert sample("hookline_deliveries_total", outcome="succeeded") - before["succeeded"] == 2
    assert sample("hookline_deliveries_total", outcome="retrying") - before["retrying"] == 1
    assert sample("hookline_attempt_duration_seconds_count") - attempts_before == 3
    assert sample("hookline_delivery_latency_seconds_count") - latency_before == 2


def test_a_failed_attempt_logs_a_line_with_the_delivery_fields(make_webhook, delivery_to, organisation, caplog):
    # given
    port = dead_port()
    webhook, _ = make_webhook(f"http://127.0.0.1:{port}/in")
    delivery = delivery_to(webhook)
    # when
    with caplog.at_level(logging.INFO, logger="hookline.delivery"):
        deliver()
    # then: readable, and JSON-formatted it carries every field
    record = next(r for r in caplog.records if r.name == "hookline.delivery")
    assert f"connection refused by 127.0.0.1:{port}" in record.getMessage()
    line = json.loads(JsonFormatter().format(record))
    assert line["webhook_id"] == delivery.event_id and line["delivery"] == delivery.id
    assert (line["endpoint"], line["attempt"], line["tenant"]) == (webhook.id, 1, organisation.id)
    assert line["outcome"] == "retrying" and "_Guarded" not in line["error"]
    attempt = Attempt.objects.get()
    assert attempt.error == f"Connection failed: connection refused by 127.0.0.1:{port}"
    assert "NewConnectionError" in attempt.error_detail  # the raw exception stays in the details


def test_counting_a_batch_is_cheap():
    # A batch of 50 attempts: about 0.5 ms measured (10 µs an attempt); the bound leaves room for a busy machine.
    import time

    started = time.perf_counter()
    for _ in range(100):
        metrics.count_recorded(["succeeded"] * 50, [12] * 50, [0.05] * 50)
    assert (time.perf_counter() - started) / 100 < 0.005


# --- /metrics ----------------------------------------------------------------------------------
def test_metrics_need_a_superuser_or_the_bearer_token(client, admin_client, operator):
    assert client.get("/metrics").status_code == 401
    client.force_login(operator)
    assert client.get("/metrics").status_code == 401  # staff of one organisation: metrics span them all
    with hookline(METRICS_TOKEN="s3cret"):
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    with hookline(METRICS_TOKEN=""):
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert admin_client.get("/metrics").status_code == 200


def test_metrics_show_the_backlog_and_endpoints_by_state(admin_client, make_webhook, delivery_to):
    # given: one due delivery waiting for 2 minutes, one undispatched event
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery_to(webhook, created=timezone.now() - timedelta(minutes=2))
    delivery_to(webhook)
    Event.objects.create(type="invoice.paid", payload={}, created_at=timezone.now())
    # when
    text = admin_client.get("/metrics").content.decode()
    # then
    assert "hookline_deliveries_due 2.0" in text
    assert "hookline_events_undispatched 1.0" in text
    oldest = float(
        next(line for line in text.splitlines() if line.startswith("hookline_backlog_oldest_seconds ")).split()[1]
    )
    assert 110 < oldest < 200
    assert 'hookline_endpoints{state="new"} 1.0' in text
    assert 'hookline_endpoints_delivery_control{state="closed"} 1.0' in text  # the circuit breaker (issue 17)
    assert 'hookline_endpoints_delivery_control{state="open"} 0.0' in text
    assert "hookline_sweeper_runs_total" in text


# --- retention ---------------------------------------------------------------------------------
def test_prune_keeps_pending_and_recent_and_deletes_old_finished_work(make_webhook, delivery_to):
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    now = timezone.now()
    old = now - timedelta(days=40)
    week_old = now - timedelta(days=10)
    old_succeeded = delivery_to(webhook, created=old, status="succeeded", completed=old)
    old_failed = delivery_to(webhook, created=old, status="failed", completed=old)
    recent_failed = delivery_to(webhook, created=week_old, status="failed", completed=week_old)
    week_succeeded = delivery_to(webhook, created=week_old, status="succeeded", completed=week_old)
    old_pending = delivery_to(webhook, created=old, status="pending")
    fresh = delivery_to(webhook, status="succeeded", completed=now)
    for delivery in Delivery.objects.all():
        Attempt.objects.create(
            delivery=delivery, number=1, created_at=delivery.created_at, request_url="u", request_body="{}"
        )
    orphan_event = Event.objects.create(type="invoice.paid", payload={}, created_at=old, dispatched_at=old)
    undispatched = Event.objects.create(type="invoice.paid", payload={}, created_at=old)
    # when
    result = retention.prune(batch=1)
    # then
    kept = set(Delivery.objects.values_list("id", flat=True))
    assert kept == {recent_failed.id, old_pending.id, fresh.id}
    assert {old_succeeded.id, old_failed.id, week_succeeded.id}.isdisjoint(kept)
    assert set(Attempt.objects.values_list("delivery_id", flat=True)) == kept
    events_left = set(Event.objects.values_list("id", flat=True))
    assert orphan_event.id not in events_left and old_succeeded.event_id not in events_left
    assert undispatched.id in events_left and old_pending.event_id in events_left
    assert (result.deliveries, result.attempts, result.finished) == (3, 3, True)


def test_prune_with_zero_days_keeps_forever(make_webhook, delivery_to):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    old = timezone.now() - timedelta(days=400)
    delivery_to(webhook, created=old, status="succeeded", completed=old)
    with hookline(RETENTION_SUCCEEDED_DAYS=0, RETENTION_EVENTS_DAYS=0):
        assert retention.prune().deliveries == 0
    assert Delivery.objects.count() == 1


def test_prune_deletes_old_alerts_but_keeps_recent_ones_and_emails_still_to_go(make_webhook):
    # given: alerts of 100 days, one of them with its email still queued, and one of 10 days
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    now = timezone.now()

    def alert(age_days: float, email_status: str = "") -> Notification:
        created = now - timedelta(days=age_days)
        return Notification.objects.create(
            webhook=webhook, kind="failing", created_at=created, summary="s", email_status=email_status
        )

    old, old_sent, old_queued, recent = alert(100), alert(100, "sent"), alert(100, "queued"), alert(10)
    # when
    result = retention.prune()
    with hookline(RETENTION_NOTIFICATIONS_DAYS=0):
        kept_forever = retention.prune(now=now + timedelta(days=400))
    # then
    assert set(Notification.objects.values_list("id", flat=True)) == {old_queued.id, recent.id}
    assert {old.id, old_sent.id}.isdisjoint(Notification.objects.values_list("id", flat=True))
    assert (result.notifications, kept_forever.notifications) == (2, 0)


def test_the_prune_command_reports(make_webhook, delivery_to, capsys):
    from django.core.management import call_command

    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    old = timezone.now() - timedelta(days=400)
    delivery_to(webhook, created=old, status="failed", completed=old)
    call_command("prune")
    out = capsys.readouterr().out
    assert "Pruned 1 deliveries" in out and ", 0 alerts" in out


# --- health queries --------------------------------------------------------------------------
def test_health_queries_on_a_small_log(make_webhook, delivery_to):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    now = timezone.now()
    done = delivery_to(webhook, status="succeeded", completed=now)
    failing = delivery_to(webhook, status="failed", completed=now)
    Attempt.objects.create(
        delivery=failing,
        number=1,
        created_at=now,
        request_url="u",
        request_body="{}",
        response_status=503,
        duration_ms=40,
    )
    Attempt.objects.create(
        delivery=done,
        number=1,
        created_at=now,
        request_url="u",
        request_body="{}",
        response_status=200,
        duration_ms=20,
        succeeded=True,
    )
    hours = health.hourly_outcomes(Delivery.objects.all())
    assert len(hours) == 24 and hours[-1][1] == {"succeeded": 1, "failed": 1}
    assert health.failing_endpoints(Delivery.objects.all(), since=now - timedelta(days=1))[0]["failing"] == 1
    days = health.endpoint_days(webhook)
    assert len(days) == 7 and days[-1].success_rate == 0.5 and days[-1].latency.sample == 2
    reasons = health.failure_reasons(webhook, since=now - timedelta(days=7))
    assert [(r.reason, r.count) for r in reasons] == [("HTTP 503 Service Unavailable", 1)]


# --- the admin's health pages --------------------------------------------------------------------
def test_the_dashboard_draws_charts_and_lists_failing_endpoints(admin_client, make_webhook, delivery_to):
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/in", name="Flaky receiver")
    now = timezone.now()
    failed = delivery_to(webhook, status="failed", completed=now)
    Attempt.objects.create(
        delivery=failed,
        number=1,
        created_at=now,
        request_url="u",
        request_body="{}",
        error="Connection failed: connection refused by 127.0.0.1:9",
    )
    # when
    page = admin_client.get("/admin/deliveries/delivery/dashboard/")
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert '<svg class="hl-chart"' in html and "<rect" in html
    assert "Flaky receiver" in html and f"/admin/hooks/webhook/{webhook.pk}/health/" in html
    assert "<title>Hookline dashboard | Hookline</title>" in html and "Django administration" not in html


def test_the_endpoint_health_page_groups_failures_by_reason(admin_client, make_webhook, delivery_to):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    now = timezone.now()
    for _n in range(3):
        failed = delivery_to(webhook, status="failed", completed=now)
        Attempt.objects.create(
            delivery=failed,
            number=1,
            created_at=now,
            request_url="u",
            request_body="{}",
            error="Connection failed: connection refused by 127.0.0.1:9",
        )
    page = admin_client.get(f"/admin/hooks/webhook/{webhook.pk}/health/")
    html = page.content.decode()
    assert page.status_code == 200 and html.count('<svg class="hl-chart"') == 3
    assert "connection refused by 127.0.0.1:9" in html and '<td class="num">3</td>' in html


def test_health_pages_are_scoped_to_the_operators_organisations(client, operator, other_organisation):
    from hooks import services

    theirs, _ = services.create_webhook(url="http://127.0.0.1:9/x", name="Theirs", organisation=other_organisation)
    client.force_login(operator)
    assert client.get(f"/admin/hooks/webhook/{theirs.pk}/health/").status_code == 404
    assert "Theirs" not in client.get("/admin/deliveries/delivery/dashboard/").content.decode()


def test_json_log_format_is_a_setting_for_web_and_celery_handlers():
    from django.conf import settings

    from hookline.jsonlog import format_celery_handlers

    assert settings.LOGGING["formatters"]["json"]["()"] == "hookline.jsonlog.JsonFormatter"
    celery_logger = logging.getLogger("celery-test-logger")
    handler = logging.StreamHandler()
    celery_logger.addHandler(handler)
    try:
        with hookline(LOG_FORMAT="json"):
            format_celery_handlers(logger=celery_logger)
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        celery_logger.removeHandler(handler)


def test_multi_process_mode_adds_up_every_process(tmp_path):
    # given: two processes count deliveries into a shared PROMETHEUS_MULTIPROC_DIR
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    (tmp_path / "metrics").mkdir()
    setup = "import django; django.setup(); from deliveries import metrics; "
    count = setup + "metrics.count_recorded(['succeeded'] * 3 + ['failed'], [20], [0.1])"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, cwd=root, timeout=60)
    # when: a third (the web process) answers the scrape
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True, cwd=root, timeout=120)
    scrape = setup + "import sys; sys.stdout.write(metrics.exposition().decode())"
    text = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, cwd=root, timeout=60, capture_output=True, text=True
    ).stdout
    # then
    assert 'hookline_deliveries_total{outcome="succeeded"} 6.0' in text
    assert 'hookline_deliveries_total{outcome="failed"} 2.0' in text
    assert "hookline_attempt_duration_seconds_count 2.0" in text
    assert "hookline_deliveries_due 0.0" in text
