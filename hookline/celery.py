"""The Celery configuration at-least-once delivery needs, as one call (``hookline.celery.configure(app)``), and its
checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery, current_app
from celery.signals import task_failure, task_retry
from django.apps import AppConfig
from django.core import checks

# Settings for any Celery app that runs Hookline's tasks (``app.conf.update(CELERY_SETTINGS)``).
CELERY_SETTINGS: dict[str, Any] = {
    # A message is acknowledged only after its task ran; a lost worker's messages come back.
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    # One message at a time per worker process: a prefetched message is stuck behind a slow batch.
    "worker_prefetch_multiplier": 1,
    "task_ignore_result": True,
    "task_serializer": "json",
    "accept_content": ["json"],
    "broker_connection_retry_on_startup": True,
    # Keep persistent DB connections: Celery's Django fixup would otherwise close them after every
    # task (measured: connection set-up took ~40 % of CPU). Broken ones are dropped on failure below.
    "CELERY_DB_REUSE_MAX": 10**9,
}
# For a Redis broker. max_retries 0: opening a broker connection is tried once, not retried for
# ~6 s, so emit() (which publishes inside the caller's request) fails fast while Redis is down and
# the sweeper enqueues later. visibility_timeout: when a killed worker's messages come back.
REDIS_TRANSPORT_OPTIONS: dict[str, Any] = {"max_retries": 0, "visibility_timeout": 3600}
SWEEPER_ENTRY = "hookline-sweep"
SWEEPER_TASK = "hookline.sweep"


def configure(app: Celery) -> Celery:
    """Give ``app`` Hookline's settings, the Redis transport options, the sweeper on beat and the DB hooks.

    Call it after ``app.config_from_object(...)``: these values win over the loaded ones, except
    the transport options and beat entries you set yourself.
    """
    app.conf.update(CELERY_SETTINGS)
    # The broker URL is known once the configuration is read (reading it here would load Django's
    # settings at import time, before e.g. `make run` has written the development .env).
    if app.configured:  # type: ignore[attr-defined]  # celery-types lacks Celery.configured (a property)
        _add_redis_options(app)
    else:
        app.on_after_configure.connect(_add_redis_options, weak=False)
    # Its period is a HOOKLINE setting: read once the app is finalized, not while settings may still be loading.
    app.on_after_finalize.connect(_schedule_sweeper, weak=False)
    task_failure.connect(_drop_old_db_connections, dispatch_uid="hookline_close_db_on_failure")
    task_retry.connect(_drop_old_db_connections, dispatch_uid="hookline_close_db_on_retry")
    return app


def _add_redis_options(sender: Celery, **kwargs: Any) -> None:
    if _is_redis(sender.conf.broker_url):
        sender.conf.broker_transport_options = {
            **REDIS_TRANSPORT_OPTIONS,
            **(sender.conf.broker_transport_options or {}),
        }


def sweeper_entry() -> dict[str, Any]:
    from .conf import hookline_settings

    return {"task": SWEEPER_TASK, "schedule": hookline_settings.SWEEP_INTERVAL}


def _schedule_sweeper(sender: Celery, **kwargs: Any) -> None:
    sender.conf.beat_schedule = {SWEEPER_ENTRY: sweeper_entry(), **(sender.conf.beat_schedule or {})}


def _drop_old_db_connections(**kwargs: Any) -> None:
    # Only after a failed or retried task (a dropped connection is the usual cause): doing it before
    # and after every task costs statements per message, and healthy connections stay open.
    from django.db import close_old_connections

    close_old_connections()


def _is_redis(url: str | None) -> bool:
    return (url or "").split("://", 1)[0] in {"redis", "rediss", "sentinel", "redis+socket"}


@checks.register()
def check_celery_configuration(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the running Celery app would lose or hoard messages, or never sweep."""
    conf = current_app.conf
    warnings: list[checks.CheckMessage] = []
    hint = (
        "Call hookline.celery.configure(app) in your project's celery.py "
        "(manual: docs/embedding.md, 'Celery and the system checks')."
    )
    if not conf.task_acks_late or not conf.task_reject_on_worker_lost:
        warnings.append(
            checks.Warning(
                "Celery acknowledges tasks before they run (task_acks_late / task_reject_on_worker_lost off): "
                "a worker that dies mid-task loses its messages until the sweeper finds them.",
                hint=hint,
                id="hookline.W020",
            )
        )
    if conf.worker_prefetch_multiplier != 1:
        warnings.append(
            checks.Warning(
                f"worker_prefetch_multiplier is {conf.worker_prefetch_multiplier}: each worker process hoards messages "
                "that wait behind its current batch while other processes idle.",
                hint=hint,
                id="hookline.W021",
            )
        )
    if not any(entry.get("task") == SWEEPER_TASK for entry in (conf.beat_schedule or {}).values()):
        warnings.append(
            checks.Warning(
                f"No beat entry runs {SWEEPER_TASK}: events published while the broker was down, and deliveries of "
                "killed workers, are never picked up again.",
                hint=hint + " Run celery beat.",
                id="hookline.W022",
            )
        )
    if _is_redis(conf.broker_url) and (conf.broker_transport_options or {}).get("max_retries") != 0:
        warnings.append(
            checks.Warning(
                "The Redis broker's transport option max_retries is not 0: emit() blocks its caller for seconds "
                "while Redis is down.",
                hint=hint,
                id="hookline.W023",
            )
        )
    return warnings
