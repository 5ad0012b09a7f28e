"""The total deadline: a watchdog thread cuts an HTTP exchange that outlives TOTAL_TIMEOUT."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

# A read timeout bounds each recv, not a receiver that drips: one byte every few seconds would hold a
# sender thread, and the delivery's lease, for as long as it liked. ``with cut_at(deadline) as watch:``
# around a request made through pools wrapped by ``with_deadline``: the watchdog shuts the connection's
# socket down when the deadline passes, so the blocked read returns and the request fails
# (``watch.expired`` says why).

_current = threading.local()  # the Watch of the request this thread is making
# The watchdog wakes at most this often (a cut may come this much late), not once per request.
_TICK = 0.05


class Watch:
    """One request's deadline, its connection once the pool hands one out, and then its response."""

    __slots__ = ("connection", "deadline", "expired", "finished", "response")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None
        self.response: Any = None
        self.finished = False
        self.expired = False

    def cut(self) -> None:
        try:
            if self.response is not None and hasattr(self.response, "shutdown"):
                # The response may own the socket by now (the connection lets go of it on
                # "connection: close"); urllib3 >= 2.3 can shut it down from another thread.
                self.response.shutdown()
            elif (sock := getattr(self.connection, "sock", None)) is not None:
                # socket.socket's own shutdown, also for TLS: SSLSocket.shutdown would unwrap the
                # socket under the reading thread (a ValueError, not a connection error).
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, ValueError, RuntimeError):
            # Closed, or handed back to the pool, by its own thread meanwhile: nothing left to cut.
            return


class _Watchdog:
    """One thread per process, sleeping until the earliest deadline of the requests in flight."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._due: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._running = False

    def start(self, watch: Watch) -> None:
        with self._wakeup:
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="hookline-deadline", daemon=True).start()
            heapq.heappush(self._due, (watch.deadline, next(self._order), watch))
            if self._due[0][2] is watch:
                self._wakeup.notify()

    def attach(self, watch: Watch, *, connection: Any = None, response: Any = None) -> None:
        with self._wakeup:
            watch.connection = connection or watch.connection
            watch.response = response or watch.response
            if watch.expired:
                watch.cut()

    def finish(self, watch: Watch) -> None:
        # Under the lock: once this returns, the watchdog can no longer cut the (reusable) connection.
        with self._wakeup:
            watch.finished = True

    def _run(self) -> None:
        with self._wakeup:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wakeup.wait()
                    continue
                delay = self._due[0][0] - time.monotonic()
                if delay > 0:
                    self._wakeup.wait(delay + _TICK)
                    continue
                _, _, watch = heapq.heappop(self._due)
                watch.expired = True
                watch.cut()


_watchdog = _Watchdog()


def _after_fork() -> None:
    global _watchdog
    _watchdog = _Watchdog()  # a forked child has no watchdog thread, and maybe a lock held by it


os.register_at_fork(after_in_child=_after_fork)


@contextlib.contextmanager
def cut_at(deadline: float) -> Iterator[Watch]:
    """Requests this thread makes through ``with_deadline`` pools inside the block end by ``deadline`` (monotonic)."""
    watch = Watch(deadline)
    _watchdog.start(watch)
    _current.watch = watch
    try:
        yield watch
    finally:
        _current.watch = None
        _watchdog.finish(watch)


class _DeadlinePoolMixin:
    """Tells the current Watch which connection the request got from the pool, and its response."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            _watchdog.attach(watch, connection=connection)
        return connection

    def urlopen(self, *args: Any, **kwargs: Any) -> Any:
        response = super().urlopen(*args, **kwargs)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            _watchdog.attach(watch, response=response)
        return response


def with_deadline(pool_class: type) -> type:
    """A subclass of the urllib3 ``pool_class`` whose connections ``cut_at`` can cut."""
    return type(f"Deadline{pool_class.__name__}", (_DeadlinePoolMixin, pool_class), {})
