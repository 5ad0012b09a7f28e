"""A worker's run: fan out whatever events wait, claim whatever deliveries are due, send them, repeat while busy.

The unit of work is "what is waiting", not "the ids in this message": under load one run (one Celery
message) carries a whole batch, so messages, SQL statements and Redis commands per delivery fall far
below one; when quiet, the run that a commit's wake-up starts sends that event within milliseconds.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from hookline.conf import hookline_settings

from . import delivering, fanout, lifecycle, senders, wakeup

logger = logging.getLogger(__name__)

# Rounds one run may take before it hands on to a fresh message (so that one Celery thread is not
# held forever under steady load, and a redeployed worker's runs end).
MAX_ROUNDS = 20
MAX_RUN_SECONDS = 10.0
# After a round that fanned out several events but not a batch, wait this long before the next: under
# a steady stream the next round then carries more events for the same statements (measured:
# docs/performance.md). A round that found one event (a trickle, where latency is what matters) or
# none does not wait, and a full one needs not.
ROUND_GAP = 0.02
# Within a run, due deliveries (retries, redeliveries) are claimed in the first round, after every round
# that found some, and otherwise at most this often: each retry's own countdown wake-up starts a run
# that claims it at once, so later rounds need not ask every time.
CLAIM_EVERY = 0.25


@dataclass
class RunResult:
    events_fanned_out: int = 0
    deliveries_sent: int = 0  # handed to the senders (their requests finish and are recorded on their own)
    rounds: int = 0


def run() -> RunResult:
    """Take batches and hand them to the senders until nothing waits (or the run's bounds are reached).

    The run never waits for a request: it claims only what the senders have room for and goes on, so
    a slow or hanging receiver holds a sender slot, never the run, the wake-up flag or the periodic check.
    While the run goes on, the wake-up flag stays raised, so producers publish nothing. When a round
    finds nothing, the run lowers the flag and looks once more: an event committed just before the
    flag came down is taken by that last look, and one committed after it publishes its own wake-up.
    A full batch publishes one more wake-up at once, so that another worker takes the rest in parallel.
    """
    result, started, lowered = RunResult(), time.monotonic(), False
    fanned = due = 0
    last_claim = 0.0
    while result.rounds < MAX_ROUNDS and time.monotonic() - started < MAX_RUN_SECONDS:
        result.rounds += 1
        if 2 <= fanned < batch_size():
            time.sleep(ROUND_GAP)  # a stream, not a trickle: let more commits land so the next round carries them
        # New events first, sent as soon as they are fanned out (the latency that matters when quiet),
        # then whatever else is due: retries, redeliveries, the rest of a wide fan-out.
        fanned = _fan_out_and_send(result, look_first=result.rounds > 1 and not fanned)
        # The last look after lowering the flag claims too: a freed slot's wake-up found the flag up meanwhile.
        if result.rounds == 1 or due or lowered or time.monotonic() - last_claim >= CLAIM_EVERY:
            due, last_claim = _claim_and_send(result), time.monotonic()
        if not fanned and not due:
            if lowered or not wakeup.flag().lower():  # without a shared flag nothing was held back
                return result
            lowered = True
        elif lowered:
            lowered = False
            if not wakeup.flag().raise_():  # a producer raised it and published: that run carries on
                return result
    _wake_another()  # bounds reached with work left: hand on to a fresh message
    return result


def batch_size() -> int:
    size: int = hookline_settings.DELIVERY_BATCH_SIZE
    return size


def _fan_out_and_send(result: RunResult, *, look_first: bool) -> int:
    """Fan out up to a batch of waiting events; their deliveries come back claimed and are sent at once.

    Only as many are claimed as the senders have room for, none of an endpoint whose in-flight cap is
    full: the others are created pending and due, and wait in the database for a freed slot.
    """
    pool = senders.senders()
    size = batch_size()
    room = pool.reserve(size)
    try:
        started, now = time.monotonic(), timezone.now()
        fanned = fanout.fan_out_waiting(
            limit=size,
            claim_limit=room,
            token=secrets.token_hex(8),
            lease=_lease(now),
            look_first=look_first,
            skip_endpoints=pool.full_endpoints(),
            endpoint_room=pool.endpoint_room,
        )
        _send(pool, fanned.claimed, started, result)
    finally:
        pool.unreserve(room)
    if fanned.capped:
        pool.starved(fanned.capped)  # their next freed slot here takes them (Senders._refill)
    if fanned.more:
        if pool.room():
            _wake_another()
        else:
            pool.starved()
    if fanned.batch_wait is not None:  # batch endpoints' new deliveries are due when their wait ends
        wakeup.schedule([fanned.batch_wait])
    result.events_fanned_out += fanned.events
    return fanned.events


def _claim_and_send(result: RunResult) -> int:
    """Claim up to a batch of due deliveries (one UPDATE … RETURNING) and hand them to the senders."""
    pool = senders.senders()
    size = batch_size()
    room = pool.reserve(size)
    if not room:
        pool.starved()  # a freed slot wakes a run
        return 0
    try:
        started, now = time.monotonic(), timezone.now()
        due = delivering.claim_due(
            now,
            room,
            token=secrets.token_hex(8),
            lease=_lease(now),
            skip_endpoints=pool.full_endpoints(),
            # Chosen per endpoint room (a SELECT first) only when some endpoint has less room than the claim:
            # else the plain claim is one statement (which two workers cannot split: a batch endpoint's due
            # deliveries go out in one request).
            endpoint_room=pool.endpoint_room if pool.narrower_than(room) else None,
            capped=pool.starved,  # their next freed slot here takes them (Senders._refill)
        )
        # Deliveries that delivery control held back (rate limit, breaker, FIFO) or that an endpoint's cap
        # left waiting are not work done: a round of only those ends the run instead of claiming them again.
        waited = _send(pool, due, started, result)
    finally:
        pool.unreserve(room)
    if len(due) >= size:
        _wake_another()
    return len(due) - waited


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=hookline_settings.CLAIM_LEASE)


def _wake_another() -> None:
    try:
        wakeup.publish()
    except Exception:  # broker down: the periodic check (heartbeat.py) takes what is left
        logger.warning("Could not publish a wake-up for the work left", exc_info=True)


def _send(pool: senders.Senders, claimed: list[Any], started: float, result: RunResult) -> int:
    """Hand claimed deliveries to the senders. ``started``: time.monotonic() of the claim, from which
    its lease runs. Returns how many were not sent now (over a cap, or held back by delivery control)."""
    if not claimed:
        return 0
    claimed, over = pool.fit(claimed)
    try:
        lifecycle.release(over)  # over their endpoint's cap: pending and due, taken when a slot frees
        prepared = delivering.prepare(claimed, started=started, rate_wait=pool.rate_wait)
        pool.submit(prepared.jobs)
    finally:
        pool.unfit(claimed)  # the submitted jobs count on their own now
    wakeup.schedule(wait.delay for wait in prepared.waits)
    result.deliveries_sent += sum(len(job.members) for job in prepared.jobs)
    return len(over) + len(prepared.waits)
