"""What each recorded batch reports: Prometheus counts and one log line per attempt, from one call in record()."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from . import metrics
from .models import Attempt, Delivery

logger = logging.getLogger("hookline.delivery")

_OUTCOME_OF_STATUS: dict[str, str] = {
    Delivery.Status.SUCCEEDED: "succeeded",
    Delivery.Status.FAILED: "failed",
    Delivery.Status.CANCELLED: "cancelled",
    Delivery.Status.PENDING: "retrying",
}
# Successes are routine (DEBUG); a failed attempt is worth a line (INFO), a delivery given up a WARNING.
_LEVELS = {"succeeded": logging.DEBUG, "retrying": logging.INFO, "failed": logging.WARNING, "cancelled": logging.INFO}


def recorded(claimed: list[Delivery], attempts: list[Attempt], now: datetime) -> None:
    """Report a batch that record() has committed: ``attempts`` were sent, the rest of ``claimed`` closed unsent.

    Deliveries that were released unsent (still pending, no attempt) report nothing.
    """
    outcomes, latencies = [], []
    for attempt in attempts:
        delivery = attempt.delivery
        outcome = _OUTCOME_OF_STATUS[delivery.status]
        outcomes.append(outcome)
        if outcome == "succeeded":
            latencies.append(metrics.latency_since(delivery.event.created_at, now))
        _log(delivery, attempt.number, outcome, attempt.response_status, attempt.duration_ms, attempt.error)
    sent = {attempt.delivery_id for attempt in attempts}
    for delivery in claimed:
        if delivery.id not in sent and delivery.status != Delivery.Status.PENDING:
            outcome = _OUTCOME_OF_STATUS[delivery.status]
            outcomes.append(outcome)
            _log(delivery, None, outcome, None, None, delivery.last_error)
    metrics.count_recorded(outcomes, (attempt.duration_ms for attempt in attempts), latencies)


def delivery_fields(delivery: Delivery, attempt: int | None = None) -> dict[str, Any]:
    """The ``extra`` of a delivery log line: webhook-id, delivery, endpoint, attempt and tenant."""
    return {
        "webhook_id": delivery.event_id,
        "delivery": delivery.id,
        "endpoint": delivery.webhook_id,
        "attempt": attempt,
        "tenant": delivery.webhook.organisation_id,
    }


def _log(
    delivery: Delivery, number: int | None, outcome: str, status: int | None, duration_ms: int | None, error: str
) -> None:
    level = _LEVELS[outcome]
    if not logger.isEnabledFor(level):  # the common case for successes: no record built at all
        return
    answer = f"HTTP {status}" if status else (error or "no request")
    logger.log(
        level,
        "Delivery %s of %s to endpoint %s, attempt %s: %s (%s)",
        delivery.id,
        delivery.event_id,
        delivery.webhook_id,
        number or "-",
        outcome,
        answer,
        extra={
            **delivery_fields(delivery, number),
            "outcome": outcome,
            "status": status,
            "duration_ms": duration_ms,
            "error": error or None,
        },
    )
