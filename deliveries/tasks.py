"""Celery tasks: thin wrappers that take ids and call fanout, delivering and the sweeper."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from hookline.conf import hookline_settings

from . import delivering, fanout, sweeper

logger = logging.getLogger(__name__)

# A dropped database connection fails the task; retrying it soon is safe (claims make it idempotent).
_DB_RETRY = {"autoretry_for": (DatabaseError,), "retry_backoff": 1, "retry_backoff_max": 30, "max_retries": 8}


@shared_task(name="hookline.fan_out", **_DB_RETRY)
def fan_out_task(event_ids: list[str]) -> int:
    delivery_ids = fanout.fan_out(event_ids)
    enqueue_deliveries(delivery_ids)
    return len(delivery_ids)


@shared_task(name="hookline.deliver", **_DB_RETRY)
def deliver_task(delivery_ids: list[int]) -> int:
    retries = delivering.deliver(delivery_ids)
    for scheduled in retries:
        # Far-off retries are left to the sweeper: Redis would redeliver a long ETA message.
        if scheduled.delay <= hookline_settings.MAX_COUNTDOWN:
            deliver_task.apply_async(([scheduled.delivery_id],), countdown=scheduled.delay)
    return len(retries)


@shared_task(name="hookline.sweep")
def sweep_task() -> int:
    result = sweeper.sweep()
    enqueue_deliveries(result.deliveries_enqueued)
    if result.events_fanned_out or result.deliveries_enqueued:
        logger.info(
            "Sweeper: fanned out %d stranded event(s), enqueued %d delivery(ies)",
            result.events_fanned_out, len(result.deliveries_enqueued),
        )
    return len(result.deliveries_enqueued)


def enqueue_fan_out(event_ids: list[str]) -> None:
    """The outbox's dispatcher: one fan-out message per emitted batch."""
    fan_out_task.apply_async((event_ids,), retry=False)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """One message per batch of deliveries (grouped by endpoint, so connections are reused)."""
    size = hookline_settings.DELIVERY_BATCH_SIZE
    for start in range(0, len(delivery_ids), size):
        deliver_task.apply_async((delivery_ids[start : start + size],))


# --- Operations (issue 16): the retention pruner on beat ------------------------------------
@shared_task(name="hookline.prune")
def prune_task() -> int:
    from . import retention  # imported here: this block is a self-contained hook (issue 16)

    # Bounded below the beat period, so two runs never overlap.
    result = retention.prune(budget=max(hookline_settings.PRUNE_INTERVAL * 0.8, 1.0))
    if result.deliveries or result.events:
        logger.info("Pruned %d deliveries, %d attempts and %d events (retention)",
                    result.deliveries, result.attempts, result.events)
    return result.deliveries
