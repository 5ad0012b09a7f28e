"""The retry policy, in one place: what counts as success, what is retried, and when."""
from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum

from django.utils import timezone

from hookline.conf import hookline_settings

RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"  # retries ran out: the endpoint becomes invalid
    REJECTED = "rejected"  # the policy does not retry this answer: this delivery fails, the endpoint stays
    GONE = "gone"  # 410: the receiver unsubscribed


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    delay: float = 0.0


def decide(status: int | None, attempts_made: int, retry_after: str | None = None) -> Decision:
    """What happens after an attempt that got ``status`` (None: no answer) as attempt ``attempts_made``."""
    if status is not None and 200 <= status < 300:
        return Decision(Outcome.SUCCEEDED)
    if status == 410:
        return Decision(Outcome.GONE)
    if not is_retryable(status):
        return Decision(Outcome.REJECTED)
    if attempts_made >= hookline_settings.MAX_ATTEMPTS:
        return Decision(Outcome.FAILED)
    return Decision(Outcome.RETRY, retry_delay(attempts_made, retry_after))


def is_retryable(status: int | None) -> bool:
    if status is None or hookline_settings.RETRY_POLICY == "all":
        return True
    return status >= 500 or status in RETRYABLE_CLIENT_ERRORS


def retry_delay(attempts_made: int, retry_after: str | None = None) -> float:
    """Exponential countdown with jitter; a receiver's Retry-After is honoured up to RETRY_MAX_DELAY."""
    settings = hookline_settings
    base = min(settings.RETRY_BASE_DELAY * 2 ** (attempts_made - 1), settings.RETRY_MAX_DELAY)
    delay = base * random.uniform(1 - settings.RETRY_JITTER, 1 + settings.RETRY_JITTER)
    requested = parse_retry_after(retry_after)
    if requested is not None:
        delay = max(delay, min(requested, settings.RETRY_MAX_DELAY))
    return min(delay, settings.RETRY_MAX_DELAY)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def schedule(max_attempts: int | None = None) -> list[float]:
    """The nominal (jitter-free) delays between attempts: for the docs and tests."""
    settings = hookline_settings
    attempts = max_attempts or settings.MAX_ATTEMPTS
    return [min(settings.RETRY_BASE_DELAY * 2 ** (n - 1), settings.RETRY_MAX_DELAY) for n in range(1, attempts)]
