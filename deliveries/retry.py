"""The retry policy, in one place: what counts as success, what is retried, and when."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from django.utils import timezone

from hooks.contracts import DEFAULT, Policy

RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"  # retries ran out: the endpoint becomes invalid
    EXHAUSTED = "exhausted"  # retries ran out, and the endpoint's policy says only the delivery fails
    REJECTED = "rejected"  # the policy does not retry this answer: this delivery fails, the endpoint stays
    GONE = "gone"  # 410: the receiver unsubscribed


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    delay: float = 0.0


def decide(
    status: int | None,
    attempts_made: int,
    retry_after: str | None = None,
    policy: Policy = DEFAULT.policy,
) -> Decision:
    """What happens after an attempt that got ``status`` (None: no answer) as attempt ``attempts_made``.

    ``policy`` is the endpoint's (hooks.contracts); its unset fields are the HOOKLINE settings
    (resolved by ``Policy.effective()``, the contract's one place for defaults).
    """
    resolved = policy.effective()
    if status is not None and (status in resolved.success if resolved.success else 200 <= status < 300):
        return Decision(Outcome.SUCCEEDED)
    if status == 410 and resolved.gone_deactivates:
        return Decision(Outcome.GONE)
    if not is_retryable(status, policy):
        return Decision(Outcome.REJECTED)
    if attempts_made >= resolved.attempts:
        return Decision(Outcome.FAILED if resolved.on_exhaustion == "invalid" else Outcome.EXHAUSTED)
    return Decision(Outcome.RETRY, retry_delay(attempts_made, retry_after, policy))


def is_retryable(status: int | None, policy: Policy = DEFAULT.policy) -> bool:
    retry_on = policy.effective().retry_on
    if status is None or retry_on == "all":
        return True
    if isinstance(retry_on, frozenset):
        return status in retry_on
    if retry_on == "5xx":
        return 500 <= status < 600
    return status >= 500 or status in RETRYABLE_CLIENT_ERRORS


def retry_delay(attempts_made: int, retry_after: str | None = None, policy: Policy = DEFAULT.policy) -> float:
    """Exponential countdown with jitter (or the policy's explicit delays, exactly); a receiver's
    Retry-After is honoured up to the cap unless the policy says not to."""
    resolved = policy.effective()
    cap = resolved.max_delay
    if resolved.delays:
        delay = float(resolved.delays[min(attempts_made, len(resolved.delays)) - 1])
        cap = max(cap, delay)
    else:
        base = min(resolved.base_delay * 2 ** (attempts_made - 1), cap)
        delay = base * random.uniform(1 - resolved.jitter, 1 + resolved.jitter)
    requested = parse_retry_after(retry_after) if resolved.honour_retry_after else None
    if requested is not None:
        delay = max(delay, min(requested, cap))
    return min(delay, cap)


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


def schedule(max_attempts: int | None = None, policy: Policy = DEFAULT.policy) -> list[float]:
    """The nominal (jitter-free) delays between attempts: for the docs and tests."""
    resolved = policy.effective()
    attempts = max_attempts or resolved.attempts
    if resolved.delays:
        return [float(resolved.delays[min(n, len(resolved.delays)) - 1]) for n in range(1, attempts)]
    return [min(resolved.base_delay * 2 ** (n - 1), resolved.max_delay) for n in range(1, attempts)]
