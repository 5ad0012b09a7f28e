"""Delivering: claim due deliveries, turn them into requests, log each attempt, decide what comes next."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from events.models import Event
from hookline.conf import hookline_settings
from hooks import states
from hooks.models import Webhook

from . import batching, control, lifecycle, messages, observe, retry, transport
from .alerts import moments as alerts  # operational alerts (issue 25)
from .exceptions import BodyTooLarge, TransformFailed
from .models import Attempt, Delivery
from .retry import Outcome

logger = logging.getLogger(__name__)

# Seconds of a claim's lease kept for writing the results after the last request ended.
RECORD_TIME = 1.0


@dataclass(frozen=True)
class ScheduledRetry:
    delivery_id: int
    delay: float
    waiting: bool = False  # held back by delivery control (control.py): not sent, no attempt used
    successor: bool = False  # a FIFO endpoint's next delivery, due now that its head ended: sent at once


@dataclass(frozen=True)
class Sent:
    """One request that went out (or was tried): its delivery, what was sent and what came back."""

    delivery: Delivery
    request: transport.OutgoingRequest
    result: transport.TransportResult


# What a delivery's last outcome does to its endpoint (other outcomes leave it as it is).
ENDPOINT_CHANGES = {
    Outcome.SUCCEEDED: states.DELIVERY_SUCCEEDED,
    Outcome.GONE: states.GONE,
    Outcome.FAILED: states.RETRIES_RAN_OUT,
}


@dataclass
class Job:
    """One request and the deliveries it carries (a batch request carries several of one endpoint)."""

    members: list[Delivery]
    request: transport.OutgoingRequest
    start_by: float  # time.monotonic() after which it is not sent: its claim would run out meanwhile
    send_at: float = 0.0  # time.time() before which it is not sent: its rate limit's token is not there yet


@dataclass
class Done:
    """A finished job: what came back, or None when it was not sent (too late to start)."""

    job: Job
    result: transport.TransportResult | None


@dataclass
class Prepared:
    jobs: list[Job] = field(default_factory=list)
    waits: list[ScheduledRetry] = field(default_factory=list)  # held back by delivery control (control.py)


def prepare(claimed: list[Delivery], *, started: float, rate_wait: float = 0.0) -> Prepared:
    """Turn deliveries this worker claimed (with event and webhook attached) into the requests to send.

    Delivery control decides first (what waits is released here); deliveries that cannot be sent
    (endpoint no longer receiving, a failed transform, skipped by a payload version) are closed here.
    ``started`` is when the claim was taken (time.monotonic()): the lease runs from then. ``rate_wait``:
    seconds a request may wait in the senders for its rate limit's token (control.admit).
    """
    if not claimed:
        return Prepared()
    claimed = batching.gather(claimed)  # a batch endpoint's deliveries travel together
    now = timezone.now()
    admission = control.admit(claimed, now, rate_wait=rate_wait)
    wall = time.time()
    prepared = Prepared(waits=[ScheduledRetry(d, delay, waiting=True) for d, delay in admission.waits])
    claimed = sorted(admission.send, key=lambda delivery: delivery.webhook_id)  # neighbours share a connection
    # A request that cannot start while its claim still has TOTAL_TIMEOUT (and the write) left is not
    # sent: the sweeper would hand the delivery to another worker while this one still sends it.
    start_by = started + hookline_settings.CLAIM_LEASE - hookline_settings.TOTAL_TIMEOUT - RECORD_TIME
    bodies = messages.BodyCache()
    closed: list[Delivery] = []
    batched: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        webhook = delivery.webhook
        if not webhook.enabled:
            if webhook.state == Webhook.State.INVALID:
                lifecycle.fail(delivery, now, f"not sent: the endpoint is {webhook.state}")
            else:
                lifecycle.cancel(delivery, now, f"not sent: the endpoint is {webhook.state}")
            closed.append(delivery)
            continue
        try:
            if batching.is_batched(webhook):
                if bodies.item(delivery.event, webhook.delivery_contract.body.payload_version) is not None:
                    batched[webhook.id].append(delivery)
                    continue
                body = None
            else:
                body = bodies.body(
                    delivery.event,
                    webhook.delivery_contract.body.payload_version,
                    webhook.delivery_contract.body,
                    token=messages.body_token(webhook),
                )
        except TransformFailed as exc:
            lifecycle.fail(delivery, now, str(exc))
            closed.append(delivery)
            continue
        if body is None:
            lifecycle.cancel(
                delivery, now, f"skipped by payload version {webhook.delivery_contract.body.payload_version}"
            )
            closed.append(delivery)
            continue
        send_at = wall + getattr(delivery, "send_after", 0.0)
        prepared.jobs.append(Job([delivery], messages.build_request(delivery.event, webhook, body), start_by, send_at))
    for members in batched.values():
        prepared.jobs += [
            Job(batch, request, start_by, wall + max(getattr(d, "send_after", 0.0) for d in batch))
            for batch, request in _batch_requests(members, bodies, now, closed)
        ]
    if closed:
        record([], closed)
    return prepared


def record_done(group: list[Done]) -> list[ScheduledRetry]:
    """Record finished jobs: the sent ones' attempts and outcomes, the unsent ones released to be claimed again."""
    sent = [
        Sent(delivery, done.job.request, done.result)
        for done in group
        if done.result is not None
        for delivery in done.job.members
    ]
    unsent = [delivery for done in group if done.result is None for delivery in done.job.members]
    retries = record(sent) if sent else []
    if unsent:
        lifecycle.release(unsent)
        retries += [ScheduledRetry(delivery.id, 0.0) for delivery in unsent]
    return retries


def _batch_requests(
    members: list[Delivery],
    bodies: messages.BodyCache,
    now: datetime,
    closed: list[Delivery],
) -> list[tuple[list[Delivery], transport.OutgoingRequest]]:
    """One request per batch of this endpoint's deliveries: a JSON array, signed once, under the batch id.

    A batch whose body would exceed its limits (messages.bounded) is closed as failed (added to ``closed``)."""
    webhook = members[0].webhook
    contract = webhook.delivery_contract
    token = messages.body_token(webhook)
    requests = []
    for batch in batching.group(members, contract.batch.max_count):
        try:
            body = messages.batch_body([d.event for d in batch], bodies, contract.body, token=token)
        except BodyTooLarge as exc:  # the batch fails with the reason; nothing is sent
            for delivery in batch:
                lifecycle.fail(delivery, now, str(exc))
            closed += batch
            continue
        requests.append((batch, messages.build_request(batch[0].event, webhook, body, msg_id=batch[0].batch_id)))
    return requests


def claim_due(
    now: datetime,
    limit: int,
    *,
    token: str | None = None,
    lease: datetime | None = None,
    skip_endpoints: Iterable[int] = (),
    only: Iterable[int] | None = None,
    endpoints: Iterable[int] | None = None,
    endpoint_room: Callable[[int], int] | None = None,
    capped: Callable[[set[int]], None] | None = None,
) -> list[Delivery]:
    """Take a lease on up to ``limit`` due deliveries, oldest due first, skipping rows another worker locks
    and the endpoints in ``skip_endpoints`` (their in-flight cap is full: they wait in the database).
    ``only``: among these ids (a FIFO head's successors); ``endpoints``: of these endpoints only. ``endpoint_room``:
    no more of an endpoint than it says, chosen by a plain SELECT first (over-cap rows claimed and released cost
    an UPDATE and a claim more); ``capped`` is called with the endpoints whose due deliveries were left for that."""
    if limit <= 0:
        return []
    due = Delivery.objects.claimable(now)
    if only is not None:
        due = due.filter(id__in=list(only))
    if endpoints is not None:
        due = due.filter(webhook_id__in=list(endpoints))
    if skip_endpoints:
        due = due.exclude(webhook_id__in=list(skip_endpoints))
    if endpoint_room is not None:
        rooms: dict[int, int] = {}
        candidates = list(due.order_by("next_attempt_at").values_list("id", "webhook_id")[:limit])
        chosen, left = [], set()
        for delivery_id, webhook_id in candidates:
            if webhook_id not in rooms:
                rooms[webhook_id] = endpoint_room(webhook_id)
            if rooms[webhook_id] > 0:
                rooms[webhook_id] -= 1
                chosen.append(delivery_id)
            else:
                left.add(webhook_id)
        if left and capped is not None:
            capped(left)
        if not chosen:
            return []
        due = Delivery.objects.claimable(now).filter(id__in=chosen)
    return _claim(due.order_by("next_attempt_at")[:limit], now, token=token, lease=lease, skip_locked=True)


def _claim(
    deliveries: QuerySet[Delivery],
    now: datetime,
    *,
    token: str | None = None,
    lease: datetime | None = None,
    skip_locked: bool = False,
) -> list[Delivery]:
    """One ``UPDATE … RETURNING``: the claimed rows come back with the claim, then their events and endpoints."""
    token = token or secrets.token_hex(8)
    lease = lease or now + timedelta(seconds=hookline_settings.CLAIM_LEASE)
    claimed = lifecycle.claim(deliveries, token=token, lease=lease, skip_locked=skip_locked)
    if not claimed:
        return []
    events = Event.objects.in_bulk({delivery.event_id for delivery in claimed})
    webhooks = Webhook.objects.select_related("runtime").in_bulk({delivery.webhook_id for delivery in claimed})
    for delivery in claimed:
        delivery.event, delivery.webhook = events[delivery.event_id], webhooks[delivery.webhook_id]
    # RETURNING comes in the plan's order (a hash of ids), not the claim's: put the oldest due first again
    # (then event order), so that the endpoints' caps (senders.fit) keep the oldest and release the youngest.
    claimed.sort(key=lambda delivery: (delivery.next_attempt_at, delivery.event.created_at, delivery.id))
    return claimed


_executor: tuple[int, ThreadPoolExecutor] | None = None


def send_all(
    requests: list[transport.OutgoingRequest], *, start_by: float | None = None
) -> list[transport.TransportResult | None]:
    """POST concurrently on this process's sender threads (deliveries are I/O-bound).

    A request still waiting for a thread at ``start_by`` (time.monotonic()) is not sent: None.
    """
    global _executor
    post = transport.post if start_by is None else partial(_post_in_time, start_by)
    if len(requests) <= 1:
        return [post(request) for request in requests]
    if _executor is None or _executor[0] != os.getpid():  # threads do not survive a fork
        _executor = (os.getpid(), ThreadPoolExecutor(hookline_settings.SEND_CONCURRENCY, "hookline-send"))
    return list(_executor[1].map(post, requests))


def _post_in_time(start_by: float, request: transport.OutgoingRequest) -> transport.TransportResult | None:
    return transport.post(request) if time.monotonic() < start_by else None


def record(sent: list[Sent], closed: Sequence[Delivery] = ()) -> list[ScheduledRetry]:
    """Write the attempts, the deliveries' new state and their endpoints' changes; returns the retries.

    One transaction for the whole group (the common case, and the cheap one). If it fails because a
    row vanished meanwhile (an endpoint deleted, a delivery pruned while its request was in flight),
    each delivery is written on its own instead: one vanished row never costs the others their log.
    """
    now = timezone.now()
    units: list[Unit] = []
    retries: list[ScheduledRetry] = []
    batch_decisions: dict[str, retry.Decision] = {}  # a batch's members share one decision (one jitter)
    for one in sent:
        delivery, result = one.delivery, one.result
        decision = batch_decisions.get(delivery.batch_id) if delivery.batch_id else None
        if decision is None:
            decision = retry.decide(
                result.status,
                delivery.attempts + 1,
                result.headers.get("Retry-After"),
                delivery.webhook.delivery_contract.policy,
            )
            if delivery.batch_id:
                batch_decisions[delivery.batch_id] = decision
        decision, counted = control.probe_decision(delivery, decision)
        attempt = log_attempt(one, decision, now)
        if not counted:
            delivery.attempts -= 1
        if decision.outcome is Outcome.RETRY:
            retries.append(ScheduledRetry(delivery.id, decision.delay))
        units.append(Unit(delivery, attempt, ENDPOINT_CHANGES.get(decision.outcome), decision.outcome))
    units += [Unit(delivery) for delivery in closed]
    woken: list[int] = []
    try:
        woken = _write(units, now)
    except DatabaseError as exc:
        if connection.in_atomic_block:  # the caller's transaction: it decides
            raise
        if isinstance(exc, (OperationalError, InterfaceError)):
            # The connection sat idle while we sent, and a database restart or failover may have cut it.
            # If the commit went through after all, no delivery holds its claim any more.
            connection.close()
            if not _still_claimed(units):
                units = []
        else:
            logger.warning("Recording %d deliveries together failed (%s); recording each on its own", len(units), exc)
        for unit in units:
            woken += _write_one(unit, now)
    # A FIFO head ended: its successor is due now (the run that sent the head may have ended meanwhile).
    retries += [ScheduledRetry(delivery_id, 0.0, successor=True) for delivery_id in woken]
    lifecycle.forget_lease(unit.delivery for unit in units)
    observe.recorded([unit.delivery for unit in units], [unit.attempt for unit in units if unit.attempt], now)
    return retries


@dataclass
class Unit:
    """What recording one delivery writes: its attempt (if sent), its endpoint's change and its outcome."""

    delivery: Delivery
    attempt: Attempt | None = None
    change: states.Change | None = None
    outcome: Outcome | None = None


def _write(units: list[Unit], now: datetime) -> list[int]:
    """Returns the FIFO successors made due now (deliveries/control.py)."""
    with transaction.atomic():
        outcomes = [(unit.delivery, unit.outcome) for unit in units if unit.outcome]
        Attempt.objects.bulk_create([unit.attempt for unit in units if unit.attempt])
        lifecycle.settle([unit.delivery for unit in units])
        alerts.record_outcomes(outcomes, now)  # operational alerts (issue 25): before a state change reads them
        _change_endpoints([(unit.delivery.webhook, unit.change) for unit in units if unit.change])
        return control.record_outcomes(outcomes, now)


def _write_one(unit: Unit, now: datetime) -> list[int]:
    """One delivery's record in its own transaction; skipped if the delivery is gone (nothing to log it on)."""
    if unit.attempt is not None:
        unit.attempt.pk = None  # an id the rolled-back INSERT returned
    try:
        with transaction.atomic():
            if not Delivery.objects.select_for_update().filter(pk=unit.delivery.pk).values_list("pk").first():
                logger.info("Delivery %s vanished while its request was in flight: nothing to record", unit.delivery.pk)
                return []
            return _write([unit], now)
    except DatabaseError as exc:
        logger.exception("Could not record delivery %s", unit.delivery.pk)
        if isinstance(exc, (OperationalError, InterfaceError)):
            connection.close()
        return []


def _still_claimed(units: list[Unit]) -> bool:
    tokens = {unit.delivery.claim_token for unit in units if unit.delivery.claim_token}
    ids = [unit.delivery.id for unit in units]
    return Delivery.objects.filter(id__in=ids, claim_token__in=tokens).exists()


def log_attempt(sent: Sent, decision: retry.Decision, now: datetime) -> Attempt:
    """Apply ``decision`` to the sent delivery (not saved) and return its Attempt (not saved)."""
    delivery, request, result = sent.delivery, sent.request, sent.result
    delivery.attempts += 1
    delivery.total_attempts += 1
    delivery.last_status_code = result.status
    delivery.last_error = result.error[:500]
    next_retry_at = None
    if decision.outcome is Outcome.SUCCEEDED:
        lifecycle.succeed(delivery, now)
    elif decision.outcome is Outcome.RETRY:
        next_retry_at = now + timedelta(seconds=decision.delay)
        lifecycle.retry(delivery, next_retry_at)
    else:
        lifecycle.fail(delivery, now)
    request_body, request_truncated = messages.logged_body(messages.masked_body(request.body, delivery.webhook))
    return Attempt(
        delivery=delivery,
        number=delivery.total_attempts,
        created_at=now - timedelta(milliseconds=result.duration_ms),
        request_url=delivery.webhook.masked_url,
        request_headers=messages.logged_headers(request, delivery.webhook),
        request_body=request_body,
        request_truncated=request_truncated,
        response_status=result.status,
        response_headers=result.headers,
        response_body=result.body,
        response_truncated=result.truncated,
        duration_ms=result.duration_ms,
        error=result.error,
        error_detail=result.detail,
        succeeded=decision.outcome is Outcome.SUCCEEDED,
        next_retry_at=next_retry_at,
    )


def _change_endpoints(changes: list[tuple[Webhook, states.Change]]) -> None:
    done: set[tuple[int, states.Change]] = set()
    for webhook, change in changes:
        if (webhook.id, change) not in done:  # a batch holds many deliveries to one endpoint
            done.add((webhook.id, change))
            states.transition(webhook, change)
