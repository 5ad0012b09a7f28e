"""Hands committed events to whoever fans them out, without ever failing the caller."""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

from django.db import transaction

logger = logging.getLogger(__name__)

Dispatcher = Callable[[list[str]], None]
_dispatcher: Dispatcher | None = None

# After a broker failure, skip publishing for a while: the sweeper enqueues what waits in the
# outbox, and emit() stays fast while the broker is down.
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """The deliveries app registers its fan-out enqueuer here (events imports no other app)."""
    global _dispatcher
    _dispatcher = dispatcher


def dispatch(event_ids: Iterable[str]) -> bool:
    """Enqueue fan-out for these events. Returns False if they were left for the sweeper."""
    global _broker_down_until
    ids = list(event_ids)
    if not ids or _dispatcher is None:
        return False
    if time.monotonic() < _broker_down_until:
        return False
    try:
        _dispatcher(ids)
    except Exception:  # any broker error: the events are safe in the database
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Could not enqueue fan-out of %d event(s); the sweeper will retry", len(ids), exc_info=True)
        return False
    return True


def dispatch_on_commit(event_ids: list[str]) -> None:
    transaction.on_commit(lambda: dispatch(event_ids))
