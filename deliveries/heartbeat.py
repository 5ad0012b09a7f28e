"""The workers' periodic check: each worker process looks for stranded work every few seconds and takes it.

A wake-up can be lost (the broker was down at commit time, a message was dropped, a worker was
killed mid-run) and retries due later than MAX_COUNTDOWN have no message at all. Rather than
leave them to one beat process, every worker checks the database itself, so work is found within
seconds of becoming overdue, even while the broker is down, and as long as any worker is alive.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from events.models import Event
from hookline.conf import hookline_settings

from . import pulse, runs
from .models import Delivery, Pulse

logger = logging.getLogger(__name__)


def stranded(now: datetime) -> bool:
    """Whether an event or a due delivery has waited longer than a wake-up would have taken."""
    overdue = now - timedelta(seconds=hookline_settings.STRANDED_AFTER)
    return (
        Event.objects.undispatched().filter(created_at__lt=overdue).exists()
        or Delivery.objects.stranded(now, overdue).exists()
    )


def check() -> int:
    """One check: if anything is stranded, run as a wake-up would. Returns the deliveries sent."""
    now = timezone.now()
    pulse.record(Pulse.Job.CHECK, now=now)
    if not stranded(now):
        return 0
    result = runs.run()
    if result.deliveries_sent or result.events_fanned_out:
        logger.info(
            "Periodic check: fanned out %d stranded event(s), sent %d delivery(ies)",
            result.events_fanned_out,
            result.deliveries_sent,
        )
    return result.deliveries_sent


def _loop(stop: threading.Event) -> None:
    while not stop.wait(hookline_settings.WORKER_CHECK_INTERVAL):
        try:
            check()
            pulse.warn_if_stale()
        except DatabaseError:
            logger.warning(
                "Periodic check failed; trying again in %.0f s", hookline_settings.WORKER_CHECK_INTERVAL, exc_info=True
            )
            close_old_connections()
        except Exception:  # never let the thread die: it is the safety net
            logger.exception("Periodic check failed")


_stop: threading.Event | None = None


def start() -> None:
    """Start this process's check thread (once); Celery's worker_ready signal calls it."""
    global _stop
    if _stop is not None or not hookline_settings.WORKER_CHECK_INTERVAL:
        return
    _stop = threading.Event()
    threading.Thread(target=_loop, args=(_stop,), name="hookline-check", daemon=True).start()


def stop() -> None:
    global _stop
    if _stop is not None:
        _stop.set()
        _stop = None
