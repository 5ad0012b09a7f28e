"""Tests for deliveries.retry: what succeeds, what is retried under each policy, and when."""
from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from deliveries.retry import Outcome, decide, parse_retry_after, retry_delay, schedule


def hookline(**overrides):
    return override_settings(HOOKLINE={**settings.HOOKLINE, **overrides})


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_2xx_succeeds(status):
    assert decide(status, 1).outcome is Outcome.SUCCEEDED


def test_410_means_the_receiver_unsubscribed():
    with hookline(RETRY_POLICY="server-errors"):
        assert decide(410, 1).outcome is Outcome.GONE


@pytest.mark.parametrize("status", [None, 301, 400, 401, 404, 408, 422, 429, 500, 503])
def test_policy_all_retries_every_failure(status):
    with hookline(RETRY_POLICY="all", MAX_ATTEMPTS=5):
        assert decide(status, 1).outcome is Outcome.RETRY


@pytest.mark.parametrize("status", [None, 408, 429, 500, 502, 503, 504])
def test_policy_server_errors_retries_5xx_408_429_and_no_answer(status):
    with hookline(RETRY_POLICY="server-errors", MAX_ATTEMPTS=5):
        assert decide(status, 1).outcome is Outcome.RETRY


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 422])
def test_policy_server_errors_rejects_other_answers_at_once(status):
    # REJECTED: this delivery fails, but the endpoint is not marked invalid
    with hookline(RETRY_POLICY="server-errors", MAX_ATTEMPTS=5):
        assert decide(status, 1).outcome is Outcome.REJECTED


def test_the_last_attempt_fails_the_delivery():
    with hookline(MAX_ATTEMPTS=3):
        assert decide(500, 2).outcome is Outcome.RETRY
        assert decide(500, 3).outcome is Outcome.FAILED


def test_a_rejected_answer_on_the_last_attempt_is_still_only_rejected():
    with hookline(RETRY_POLICY="server-errors", MAX_ATTEMPTS=1):
        assert decide(400, 1).outcome is Outcome.REJECTED


def test_delays_grow_exponentially_up_to_the_cap():
    with hookline(RETRY_BASE_DELAY=10, RETRY_MAX_DELAY=100, RETRY_JITTER=0):
        assert [retry_delay(n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]
        assert schedule(5) == [10, 20, 40, 80]


def test_jitter_stays_within_its_fraction():
    with hookline(RETRY_BASE_DELAY=10, RETRY_MAX_DELAY=1000, RETRY_JITTER=0.2):
        delays = [retry_delay(1) for _ in range(200)]
    assert all(8 <= delay <= 12 for delay in delays)


def test_retry_after_is_honoured_up_to_the_cap():
    with hookline(RETRY_BASE_DELAY=1, RETRY_MAX_DELAY=60, RETRY_JITTER=0):
        assert retry_delay(1, "30") == 30
        assert retry_delay(1, "86400") == 60
        assert retry_delay(3, "1") == 4  # never sooner than our own schedule


def test_retry_after_as_an_http_date():
    when = timezone.now() + timedelta(seconds=120)
    assert 100 < parse_retry_after(format_datetime(when, usegmt=True)) <= 120


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "Mon, 32 Foo 2020"])
def test_an_unreadable_retry_after_is_ignored(value):
    assert parse_retry_after(value) is None


def test_the_default_schedule_spreads_about_three_days():
    assert 2.5 * 86400 < sum(schedule()) < 3.5 * 86400
