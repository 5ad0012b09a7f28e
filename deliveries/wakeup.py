"""Wake-ups: the Celery messages that tell a worker to handle whatever waits, and the flag that keeps them few.

A wake-up names no events or deliveries: the run that takes it fans out every waiting event and
claims every due delivery it can (deliveries/runs.py). So one wake-up is enough however many commits
came before it, and the flag below lets producers skip publishing while one is pending or a run is
under way. The flag is a Redis key when the broker is Redis; other brokers publish every wake-up
(the runs still coalesce the work; only the messages are not saved).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlparse

from celery import current_app

from hookline.conf import hookline_settings

logger = logging.getLogger(__name__)

# Milliseconds a raised flag lives without its run lowering it: a worker killed mid-run holds it no
# longer than this, and a long run (a slow receiver) lets a parallel run start after it.
FLAG_TTL_MS = 5000


class _NoFlag:
    """For brokers without a shared flag: every wake-up is published."""

    def raise_(self) -> bool:
        return True

    def lower(self) -> bool:
        return False


class _RedisFlag:
    """``SET NX PX`` on the broker's Redis: True for the caller that raised it (and must publish)."""

    def __init__(self, url: str, queue: str) -> None:
        import redis

        self.key = f"hookline:wake:{queue}"
        # Short timeouts: a Redis that does not answer must not hold a publisher or a worker long.
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def raise_(self) -> bool:
        try:
            return bool(self.client.set(self.key, b"1", nx=True, px=FLAG_TTL_MS))
        except Exception:  # the publish that follows will tell whether the broker is really down
            logger.debug("Could not raise the wake-up flag", exc_info=True)
            return True

    def lower(self) -> bool:
        try:
            self.client.delete(self.key)
        except Exception:  # it expires by itself
            logger.debug("Could not lower the wake-up flag", exc_info=True)
        return True


_flag: tuple[str, _RedisFlag | _NoFlag] | None = None
_flag_lock = threading.Lock()


def flag() -> _RedisFlag | _NoFlag:
    """This process's flag, on the broker in use (redis-py's pool reconnects after a fork by itself)."""
    global _flag
    url = current_app.conf.broker_url or ""
    current = _flag
    if current is None or current[0] != url:
        with _flag_lock:
            if _flag is None or _flag[0] != url:
                shared = urlparse(url).scheme in {"redis", "rediss"}
                _flag = (url, _RedisFlag(url, current_app.conf.task_default_queue) if shared else _NoFlag())
            current = _flag
    return current[1]


# The task a wake-up starts (deliveries/tasks.py), published by name: this module stays below the tasks.
WORK_TASK = "hookline.work"
# Countdown wake-ups are grouped by this many seconds of due time: a retry is claimed at most this
# late (plus the run's start), and a storm of retries with jittered delays costs one message per slot.
SCHEDULE_SLOT = 0.1


def publish(*, countdown: float | None = None) -> None:
    """Publish one wake-up (Celery's broker errors propagate: the outbox handles them).

    On RabbitMQ with quorum queues Celery delays a countdown in RabbitMQ's TTL queues, in whole seconds:
    it truncates the countdown (a 1.9 s wake-up comes after 1 s, before its work is due) and refuses one
    below a second (ValueError: every sub-second retry or rate-limit wake-up was lost, 964 in one 30 s run
    of the 3-worker rate-limit test, and with it a third of the limit's deliveries).
    There the whole seconds travel in the broker with the exact due time, and this process's timer
    publishes the wake-up for the fraction left (tasks.py hands an early message to it).
    """
    if not countdown or countdown <= 0 or not whole_seconds():
        current_app.send_task(WORK_TASK, countdown=countdown or None, retry=False)
        return
    due = time.time() + countdown
    if countdown < 1:
        timer().at(due, publish_now)
    else:
        current_app.send_task(WORK_TASK, kwargs={"due": due}, countdown=math.floor(countdown), retry=False)


def publish_now() -> None:
    try:
        publish()
    except Exception:  # broker down: the periodic check finds the work when it is due
        logger.warning("Could not publish a timed wake-up", exc_info=True)


_whole: tuple[str, bool] | None = None


def whole_seconds() -> bool:
    """Whether the broker delays countdowns in whole seconds (Celery's native delayed delivery for quorum queues)."""
    global _whole
    url = current_app.conf.broker_url or ""
    if _whole is None or _whole[0] != url:
        from celery.utils.quorum_queues import detect_quorum_queues

        amqp = urlparse(url).scheme in {"amqp", "amqps", "pyamqp"}
        _whole = (url, amqp and detect_quorum_queues(current_app, "amqp")[0])
    return _whole[1]


class Timer:
    """Actions at given times on one thread (a heap): the process's wake-ups due within a second, and the
    senders' requests that wait for a rate limit's token. Lost if the process dies, like the requests it
    has in flight; the periodic check (and the claims' leases) then find the work."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        threading.Thread(target=self._loop, name="hookline-timer", daemon=True).start()

    def at(self, due: float, action: Callable[[], object]) -> None:
        """Run ``action`` on the timer's thread at ``due`` (time.time()); what it returns is dropped."""
        with self._ready:
            heapq.heappush(self._heap, (due, next(self._order), action))
            self._ready.notify()

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._heap or self._heap[0][0] > time.time():
                    self._ready.wait(self._heap[0][0] - time.time() if self._heap else None)
                _, _, action = heapq.heappop(self._heap)
            try:
                action()
            except Exception:
                logger.exception("A timed wake-up failed")


_timer: tuple[int, Timer] | None = None
_timer_lock = threading.Lock()


def timer() -> Timer:
    """This process's timer (threads do not survive a fork: a child makes its own)."""
    global _timer
    with _timer_lock:
        if _timer is None or _timer[0] != os.getpid():
            _timer = (os.getpid(), Timer())
        return _timer[1]


def schedule(delays: Iterable[float]) -> None:
    """One countdown wake-up per SCHEDULE_SLOT of due time: the run it starts claims every delivery due by then.

    Due times later than MAX_COUNTDOWN are left to the workers' periodic check (heartbeat.py): a
    Redis ETA message held past the visibility timeout would be delivered again.
    """
    limit = hookline_settings.MAX_COUNTDOWN
    slots = sorted({math.ceil(delay / SCHEDULE_SLOT - 1e-9) * SCHEDULE_SLOT for delay in delays if delay <= limit})
    for countdown in slots:
        try:
            publish(countdown=round(countdown, 3) or None)
        except Exception:  # broker down: the periodic check finds the work when it is due
            logger.warning("Could not schedule a wake-up in %.1f s", countdown, exc_info=True)
            return


def publish_for(count: int) -> None:
    """Wake enough workers for ``count`` due deliveries: one wake-up per batch (each run claims a batch)."""
    for _ in range(0, count, hookline_settings.DELIVERY_BATCH_SIZE):
        publish()


def wake() -> None:
    """The outbox's dispatcher: publish a wake-up unless one is already pending or a run is under way."""
    if flag().raise_():
        publish()
