"""This process's senders: a bounded pool of threads that POST, and one recorder that writes each result.

A run hands its requests over and goes on at once; it never waits for a request to finish. Each
request is recorded when *it* finishes: the recorder takes whatever completions have arrived (waiting
at most RECORD_WINDOW for company while others are in flight) and writes them in one transaction,
so under load a handful of statements still covers dozens of deliveries, and a request that hangs
until its timeout delays nobody's record but its own.

Two limits keep the pool fair, both counted here (per worker process, in memory): SEND_CONCURRENCY
requests in flight in all, and per endpoint its *share*: at most half of the slots the other endpoints
leave free, and never more than its cap (MAX_IN_FLIGHT_PER_ENDPOINT, or the contract's ``max_in_flight``).
Alone, an endpoint with a backlog may use half the pool (a fixed small cap starved a lone busy endpoint:
at 20 slots a 200 ms receiver got 85 deliveries/s); beside others it shrinks, and since no endpoint may
take more than what the others leave, slots are always left for an endpoint that has none in flight.
Runs claim only what fits (``room``/``full_endpoints``/``endpoint_room``); deliveries over a share stay
pending in the database, and when one of that endpoint's requests ends the recorder claims and sends its next
ones itself (``_refill``), as it does a FIFO head's successor: no wake-up message and no run per freed slot.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from hookline.conf import hookline_settings
from hooks.models import Webhook

from . import delivering, lifecycle, transport, wakeup
from .delivering import Done, Job, ScheduledRetry
from .models import Delivery

logger = logging.getLogger(__name__)

# Seconds the recorder waits for more completions before writing, while other requests are in flight:
# long enough that a burst's answers share one transaction, short next to any receiver's answer.
RECORD_WINDOW = 0.005
# Completions written per transaction at most.
RECORD_MAX = 200


def endpoint_cap(webhook: Webhook) -> int:
    """Requests in flight at once to this endpoint, per worker process, at most: its contract's, else the setting."""
    own = webhook.delivery_contract.policy.max_in_flight
    return max(1, int(own if own else hookline_settings.MAX_IN_FLIGHT_PER_ENDPOINT))


def fair_share(size: int, cap: int, others: int) -> int:
    """Requests an endpoint may have in flight when the other endpoints hold ``others`` of ``size`` slots:
    half of what they leave free, within its cap. Whatever the endpoints do, each leaves at least as many
    slots free as it holds, so an endpoint with nothing in flight always finds room."""
    return max(1, min(cap, (size - others) // 2))


class Senders:
    """``inline``: send and record on the submitting thread, one job at a time (the unit tests, whose
    database transaction other threads cannot see); the same caps, the same record."""

    def __init__(
        self, size: int, record: Callable[[list[Done]], list[ScheduledRetry]], *, inline: bool = False
    ) -> None:
        self.size = size
        self._record = record
        self._inline = inline
        # Seconds a request may wait here for its rate limit's token (control.admit): not inline, where
        # the waiting would be the test's own thread.
        self.rate_wait = 0.0 if inline else hookline_settings.RATE_LIMIT_WAIT
        self._done: queue.SimpleQueue[Done] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._in_flight = 0  # submitted and not yet recorded
        self._reserved = 0  # slots held by runs between their claim and their submit
        # Per endpoint: requests submitted and not yet recorded, and deliveries fitted by a claim and not yet
        # submitted (``fit`` counts them at once, so that concurrent runs never exceed the cap together).
        self._per_endpoint: Counter[int] = Counter()
        self._held = 0  # the sum of _per_endpoint
        self._caps: dict[int, int] = {}
        self._starved = False  # a run left work behind for lack of any room here: wake one when a slot frees
        # Endpoints with due deliveries left in the database for lack of room here: refilled as their requests end.
        self._waiting: set[int] = set()
        self._idle = threading.Condition(self._lock)
        # Wake-ups the recorder asks for go out on a thread of their own: a broker that does not answer
        # holds that thread, never the recording of finished requests.
        self._wakeups: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        if not inline:
            self._pool = ThreadPoolExecutor(size, "hookline-send")
            # Its own timer for requests that wait for a rate limit's token: a publish that hangs on the
            # broker (the process's wake-up timer) must not hold them.
            self._timer = wakeup.Timer()
            threading.Thread(target=self._recorder, name="hookline-record", daemon=True).start()
            threading.Thread(target=self._publisher, name="hookline-wake", daemon=True).start()

    # --- what a run may claim --------------------------------------------------------------------

    def room(self) -> int:
        with self._lock:
            return max(0, self.size - self._in_flight - self._reserved)

    def reserve(self, wanted: int) -> int:
        """Hold up to ``wanted`` slots for a claim about to be made (concurrent runs never claim the same room);
        give them back with ``unreserve`` once the claim's jobs are submitted."""
        with self._lock:
            granted = max(0, min(wanted, self.size - self._in_flight - self._reserved))
            self._reserved += granted
            return granted

    def unreserve(self, count: int) -> None:
        with self._lock:
            self._reserved -= count

    def full_endpoints(self) -> set[int]:
        with self._lock:
            return {webhook_id for webhook_id in self._per_endpoint if self._room_locked(webhook_id) <= 0}

    def endpoint_room(self, webhook_id: int) -> int:
        """Requests the endpoint may still have in flight here (its share, with its cap as last seen)."""
        with self._lock:
            return self._room_locked(webhook_id)

    def narrower_than(self, limit: int) -> bool:
        """Whether some endpoint's room here is below ``limit``: a claim of that many should then be chosen per
        endpoint room (a SELECT first) rather than claimed whole and partly released."""
        with self._lock:
            if fair_share(self.size, hookline_settings.MAX_IN_FLIGHT_PER_ENDPOINT, self._held) < limit:
                return True  # even an endpoint with nothing in flight
            return any(self._room_locked(webhook_id) < limit for webhook_id in self._per_endpoint)

    def _share_locked(self, webhook_id: int) -> int:
        """What the endpoint may have in flight here now: its fair share within its cap (as last seen)."""
        others = self._held - self._per_endpoint.get(webhook_id, 0)
        return fair_share(self.size, self._caps.get(webhook_id, hookline_settings.MAX_IN_FLIGHT_PER_ENDPOINT), others)

    def _room_locked(self, webhook_id: int) -> int:
        return max(0, self._share_locked(webhook_id) - self._per_endpoint.get(webhook_id, 0))

    def _refill_at(self, webhook_id: int) -> int:
        return max(1, min(self._share_locked(webhook_id) // 4, int(hookline_settings.DELIVERY_BATCH_SIZE) // 2))

    def fit(self, deliveries: list[Delivery]) -> tuple[list[Delivery], list[Delivery]]:
        """Split claimed deliveries into those within the endpoints' caps and those over (to release).

        Those that fit hold their endpoint's slots from now on, until ``unfit`` once their jobs are
        submitted (which count on their own) or dropped."""
        fits, over = [], []
        caps = {delivery.webhook_id: endpoint_cap(delivery.webhook) for delivery in deliveries}
        with self._lock:
            self._caps.update(caps)
            for delivery in deliveries:
                if self._room_locked(delivery.webhook_id) > 0:
                    self._hold(delivery.webhook_id)
                    fits.append(delivery)
                else:
                    over.append(delivery)
            self._waiting.update(delivery.webhook_id for delivery in over)
        return fits, over

    def unfit(self, fitted: list[Delivery]) -> None:
        """Give back the endpoint slots ``fit`` held for these deliveries."""
        with self._lock:
            for delivery in fitted:
                self._let_go(delivery.webhook_id)

    def _hold(self, webhook_id: int) -> None:
        self._per_endpoint[webhook_id] += 1
        self._held += 1

    def _let_go(self, webhook_id: int) -> None:
        self._per_endpoint[webhook_id] -= 1
        self._held -= 1
        if self._per_endpoint[webhook_id] <= 0:
            del self._per_endpoint[webhook_id]

    def starved(self, endpoints: Iterable[int] = ()) -> None:
        """A run left due work for lack of room: of these endpoints (their next freed slot here takes it), or
        of any (``endpoints`` empty: the next freed slot publishes a wake-up)."""
        with self._lock:
            if endpoints:
                self._waiting.update(endpoints)
            else:
                self._starved = True

    # --- sending and recording ---------------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> None:
        with self._lock:
            for job in jobs:
                self._in_flight += 1
                self._hold(job.members[0].webhook_id)
        now = time.time()
        for job in jobs:
            if self._inline:
                self._send(job)
                self._record_group([self._done.get()])
            elif job.send_at > now:  # its rate limit's token comes within rate_wait: no thread waits for it
                self._timer.at(job.send_at, partial(self._pool.submit, self._send, job))
            else:
                self._pool.submit(self._send, job)

    def _send(self, job: Job) -> None:
        try:
            result = transport.post(job.request) if time.monotonic() < job.start_by else None
        except Exception as exc:  # post() returns failures as data; this is a bug, logged as the attempt's error
            logger.exception("Sending a request failed unexpectedly")
            result = transport.TransportResult(error=f"Internal error while sending: {exc}"[:1000])
        self._done.put(Done(job, result))

    def _recorder(self) -> None:
        while True:
            group = [self._done.get()]
            deadline = time.monotonic() + RECORD_WINDOW
            while len(group) < RECORD_MAX:
                try:
                    group.append(self._done.get_nowait())
                    continue
                except queue.Empty:
                    pass
                left = deadline - time.monotonic()
                if left <= 0 or self._in_flight <= len(group):  # nothing else on its way
                    break
                try:
                    group.append(self._done.get(timeout=left))
                except queue.Empty:
                    break
            self._record_group(group)

    def _record_group(self, group: list[Done]) -> None:
        successors: list[int] = []
        try:
            retries = self._record(group)
            successors = [retry.delivery_id for retry in retries if retry.successor]
            later = [retry.delay for retry in retries if not retry.successor]
            if later:
                self._publish(partial(wakeup.schedule, later))
        except Exception:  # never let the recorder die; the claims' leases hand the rest on
            logger.exception("Recording %d finished request(s) failed", len(group))
            if not self._inline:
                close_old_connections()
        finally:
            freed = self._finished(group)
        if successors:
            try:
                self._send_successors(successors)
            except Exception:  # they are due: the next run (or the periodic check) takes them
                logger.exception("Sending %d FIFO successor(s) failed", len(successors))
                self._publish(wakeup.wake)
        if freed:
            try:
                self._refill(freed)
            except Exception:  # they are due: a run (or the periodic check) takes them
                logger.exception("Refilling %d endpoint(s) failed", len(freed))
                self._publish(wakeup.wake)

    def _finished(self, group: list[Done]) -> set[int]:
        """Count the group's slots free again; returns the waiting endpoints among theirs (to refill)."""
        with self._lock:
            for done in group:
                self._in_flight -= 1
                self._let_go(done.job.members[0].webhook_id)
            wake, self._starved = self._starved, False
            freed = self._waiting & {done.job.members[0].webhook_id for done in group}
            if self._inline and freed:  # the unit tests' thread is the run's: a wake-up (their fake broker) takes them
                self._waiting -= freed
                freed, wake = set(), True
            self._idle.notify_all()
        if wake:
            self._publish(wakeup.wake)
        return freed

    def _refill(self, endpoints: set[int]) -> None:
        """Due deliveries of endpoints that had some left for lack of room, now that their requests ended:
        claimed up to their room and sent from here (one claim for the group's endpoints). An endpoint whose
        claim brings less than its room has nothing more waiting."""
        with self._lock:
            rooms = {webhook_id: self._room_locked(webhook_id) for webhook_id in endpoints}
            # Not a claim per ended request: an endpoint is refilled once a quarter of its share (at most half a
            # batch) is free, so that each claim carries many (it stays waiting until then).
            rooms = {webhook_id: room for webhook_id, room in rooms.items() if room >= self._refill_at(webhook_id)}
        if rooms:
            claimed = self._claim_and_submit(
                sum(rooms.values()),
                endpoints=list(rooms),
                endpoint_room=self.endpoint_room if len(rooms) > 1 else None,
            )
            taken = Counter(delivery.webhook_id for delivery in claimed)
            with self._lock:
                self._waiting -= {webhook_id for webhook_id, room in rooms.items() if taken[webhook_id] < room}

    def _send_successors(self, delivery_ids: list[int]) -> None:
        """FIFO endpoints' next deliveries, due now that their heads ended: claimed and sent from here, at
        once, rather than by a wake-up message per delivery (an ordered backlog goes one request at a time)."""
        self._claim_and_submit(len(delivery_ids), only=delivery_ids)

    def _claim_and_submit(self, wanted: int, **which: Any) -> list[Delivery]:
        """Claim up to ``wanted`` due deliveries (``which``: claim_due's filters) within the room here, and send
        them; returns those claimed."""
        room = self.reserve(wanted)
        if room < wanted:
            self.starved()  # a freed slot wakes a run for the rest
        if not room:
            return []
        try:
            started, now = time.monotonic(), timezone.now()
            lease = now + timedelta(seconds=hookline_settings.CLAIM_LEASE)
            got = delivering.claim_due(now, room, token=secrets.token_hex(8), lease=lease, **which)
            claimed, over = self.fit(got)
            try:
                lifecycle.release(over)
                prepared = delivering.prepare(claimed, started=started, rate_wait=self.rate_wait)
                self.submit(prepared.jobs)
            finally:
                self.unfit(claimed)
        finally:
            self.unreserve(room)
        if prepared.waits:
            self._publish(partial(wakeup.schedule, [wait.delay for wait in prepared.waits]))
        return got

    def _publish(self, publish: Callable[[], None]) -> None:
        if self._inline:
            publish()
        else:
            self._wakeups.put(publish)

    def _publisher(self) -> None:
        while True:
            publish = self._wakeups.get()
            try:
                publish()
            except Exception:  # broker down: the periodic check takes what waits
                logger.warning("Could not publish a wake-up", exc_info=True)

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted request is recorded (tests, a worker's shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True


_senders: tuple[int, Senders] | None = None
_senders_lock = threading.Lock()


def install(replacement: Senders | None) -> None:
    """Use ``replacement`` as this process's senders (tests install inline ones); None: back to the default."""
    global _senders
    _senders = (os.getpid(), replacement) if replacement is not None else None


def senders() -> Senders:
    """This process's senders (threads do not survive a fork: a child makes its own)."""
    global _senders
    current = _senders
    if current is None or current[0] != os.getpid():
        with _senders_lock:
            if _senders is None or _senders[0] != os.getpid():
                _senders = (os.getpid(), Senders(hookline_settings.SEND_CONCURRENCY, delivering.record_done))
            current = _senders
    return current[1]
