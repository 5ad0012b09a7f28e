"""The retry policy: success, retryable answers, the exponential countdown and Retry-After."""

from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from deliveries import retry
from deliveries.retry import Outcome
from tests.support.overrides import hookline


def test_default_schedule_spreads_17_retries_over_about_3_days():
    with hookline(MAX_ATTEMPTS=18, RETRY_BASE_DELAY=10, RETRY_MAX_DELAY=43200):
        delays = retry.schedule()
    assert len(delays) == 17
    assert 2.5 * 86400 < sum(delays) < 3.5 * 86400
    assert delays == sorted(delays)
    assert max(delays) == 43200


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_2xx_succeeds(status):
    assert retry.decide(status, 1).outcome is Outcome.SUCCEEDED


def test_410_means_gone():
    assert retry.decide(410, 1).outcome is Outcome.GONE


@pytest.mark.parametrize("status", [None, 301, 400, 404, 408, 429, 500, 503])
def test_policy_all_retries_every_failure(status):
    with hookline(RETRY_POLICY="all", MAX_ATTEMPTS=5):
        assert retry.decide(status, 1).outcome is Outcome.RETRY


@pytest.mark.parametrize(
    "status, outcome",
    [
        (400, Outcome.REJECTED),
        (404, Outcome.REJECTED),
        (301, Outcome.REJECTED),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_policy_server_errors_retries_only_5xx_408_429_and_no_answer(status, outcome):
    with hookline(RETRY_POLICY="server-errors", MAX_ATTEMPTS=5):
        assert retry.decide(status, 1).outcome is outcome


def test_last_attempt_fails():
    with hookline(MAX_ATTEMPTS=3):
        assert retry.decide(500, 2).outcome is Outcome.RETRY
        assert retry.decide(500, 3).outcome is Outcome.FAILED


def test_delay_doubles_with_bounded_jitter_and_cap():
    with hookline(RETRY_BASE_DELAY=10, RETRY_MAX_DELAY=100, RETRY_JITTER=0.2):
        for attempt, nominal in [(1, 10), (2, 20), (3, 40), (4, 80)]:
            for _ in range(20):
                assert nominal * 0.8 <= retry.retry_delay(attempt) <= nominal * 1.2
        assert all(retry.retry_delay(10) <= 100 for _ in range(20))


def test_retry_after_seconds_is_honoured_and_capped():
    with hookline(RETRY_BASE_DELAY=1, RETRY_MAX_DELAY=3600, RETRY_JITTER=0):
        assert retry.retry_delay(1, "120") == 120
        assert retry.retry_delay(1, "999999") == 3600
        assert retry.retry_delay(1, "garbage") == 1


def test_retry_after_http_date():
    when = timezone.now() + timedelta(seconds=300)
    seconds = retry.parse_retry_after(format_datetime(when, usegmt=True))
    assert 295 <= seconds <= 301
    assert retry.parse_retry_after(None) is None
