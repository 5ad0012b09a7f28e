"""Celery tasks: thin wrappers over runs (the delivery work), the sweeper and the scheduled events' check."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.db import DatabaseError

from events import scheduling
from hookline.conf import hookline_settings

from . import pulse, runs, sweeper, wakeup

logger = logging.getLogger(__name__)

# A dropped database connection fails the task; retrying it soon is safe (claims make it idempotent).
_DB_RETRY: dict[str, Any] = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 8,
}


@shared_task(name="hookline.work", **_DB_RETRY)
def work_task(*_ignored: Any, due: float | None = None) -> int:
    """A wake-up: fan out what waits and send what is due (the message itself names nothing).

    ``due`` (time.time()): a countdown the broker delayed in whole seconds (wakeup.publish) came early;
    this process's timer publishes it again when it is due, without holding this thread meanwhile.
    """
    if due is not None and due - time.time() > 0.001:
        wakeup.timer().at(due, wakeup.publish_now)
        return 0
    return runs.run().deliveries_sent


# Messages published by an earlier version name events or deliveries; they are wake-ups all the same.
fan_out_task = shared_task(name="hookline.fan_out", **_DB_RETRY)(work_task.run)  # type: ignore[no-untyped-call]  # celery-types: shared_task(**options) returns an untyped decorator
deliver_task = shared_task(name="hookline.deliver", **_DB_RETRY)(work_task.run)  # type: ignore[no-untyped-call]  # celery-types: shared_task(**options) returns an untyped decorator


@shared_task(name="hookline.test_endpoint", **_DB_RETRY)
def test_endpoint_task(webhook_id: int) -> bool:
    """The test of an endpoint that asked for one on create or URL change (contract policy.test_on_save)."""
    from hooks.models import Webhook

    from .endpoint_actions import send_test

    webhook = Webhook.objects.filter(pk=webhook_id).first()
    return bool(webhook and send_test(webhook).succeeded)


def request_test(sender: object, *, webhook_id: int, **kwargs: Any) -> None:
    try:
        test_endpoint_task.delay(webhook_id)
    except Exception:  # broker down: the endpoint stays new and receives events; a test can be sent by hand
        logger.warning("Could not enqueue the test of endpoint %s", webhook_id, exc_info=True)


@shared_task(name="hookline.sweep")
def sweep_task() -> int:
    result = sweeper.sweep()
    wakeup.publish_for(len(result.deliveries_enqueued))
    pulse.warn_if_stale()  # beat alive while the workers' periodic checks are not
    if result.events_fanned_out or result.deliveries_enqueued:
        logger.info(
            "Sweeper: fanned out %d stranded event(s), enqueued %d delivery(ies)",
            result.events_fanned_out,
            len(result.deliveries_enqueued),
        )
    return len(result.deliveries_enqueued)


@shared_task(name="hookline.schedules")
def schedules_task() -> int:
    """Beat's check for due scheduled events (each run an ordinary, idempotent emit)."""
    result = scheduling.run_due()
    if result.emitted or result.skipped:
        logger.info("Scheduled events: emitted %d, skipped %d missed run(s)", len(result.emitted), result.skipped)
    return len(result.emitted)


# --- Operations (issue 16): the retention pruner on beat ------------------------------------
@shared_task(name="hookline.prune")
def prune_task() -> int:
    from . import retention  # imported here: this block is a self-contained hook (issue 16)

    # Bounded below the beat period, so two runs never overlap.
    result = retention.prune(budget=max(hookline_settings.PRUNE_INTERVAL * 0.8, 1.0))
    if result.deliveries or result.events or any(result.others.values()):
        logger.info(
            "Pruned %d deliveries, %d attempts and %d events (retention); other tables: %s",
            result.deliveries,
            result.attempts,
            result.events,
            result.others,
        )
    return result.deliveries
