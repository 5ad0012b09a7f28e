"""Tells the workers, after a commit, that events wait in the outbox, without ever failing or slowing the caller."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

# Publishes one wake-up: "events wait in the outbox". The message names no events: the worker that
# takes it fans out whatever is waiting, so one wake-up serves every commit that came before it.
Dispatcher = Callable[[], None]
_dispatcher: Dispatcher | None = None
# A commit only flags that a wake-up is wanted; one thread per process publishes it. The request
# never waits for the broker, and commits that land while a publish is in flight share the next one.
# Off (publish inline) where the dispatcher runs the work itself (Celery's eager mode, some tests).
_background = True

# After a broker failure, skip publishing for a while: the workers' periodic check (and the sweeper)
# find what waits in the outbox, and the publisher thread does not spin against a dead broker.
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def set_dispatcher(dispatcher: Dispatcher | None, *, background: bool = True) -> None:
    """The deliveries app registers its wake-up publisher here (events imports no other app)."""
    global _dispatcher, _background
    _dispatcher, _background = dispatcher, background


def dispatch() -> bool:
    """Publish a wake-up now. Returns False if the events were left for the workers' periodic check."""
    global _broker_down_until
    if _dispatcher is None or time.monotonic() < _broker_down_until:
        return False
    try:
        _dispatcher()
    except Exception:  # any broker error: the events are safe in the database
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Could not publish a wake-up; the workers' periodic check will find the events", exc_info=True)
        return False
    return True


def dispatch_on_commit() -> None:
    """Wake the workers when the caller's transaction commits (nothing happens on rollback)."""
    transaction.on_commit(notify)


def notify() -> None:
    """Ask for a wake-up: published by this process's publisher thread, or inline when it is off."""
    if _background:
        _publisher().want()
    else:
        dispatch()


class _Publisher:
    """The process's publisher thread: it publishes one wake-up per burst of commits."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._wanted = threading.Event()
        # Generation counters, so that a wake-up wanted while the process exits is published by
        # flush() even when the thread had already cleared the flag for a publish still in flight.
        self._asked = self._published = 0
        threading.Thread(target=self._loop, name="hookline-outbox", daemon=True).start()

    def want(self) -> None:
        self._asked += 1
        self._wanted.set()

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            asked = self._asked
            dispatch()
            self._published = asked

    def flush(self) -> None:
        if self._published < self._asked:
            self._published = self._asked
            dispatch()


_current: _Publisher | None = None
_start_lock = threading.Lock()


def _publisher() -> _Publisher:
    global _current
    current = _current
    if current is not None and current.pid == os.getpid():
        return current
    with _start_lock:  # threads do not survive a fork: each process starts its own
        if _current is None or _current.pid != os.getpid():
            _current = _Publisher()
            atexit.register(_current.flush)
        return _current


def _reset_after_fork() -> None:
    global _start_lock
    _start_lock = threading.Lock()  # it may have been held by another thread at the fork


os.register_at_fork(after_in_child=_reset_after_fork)
