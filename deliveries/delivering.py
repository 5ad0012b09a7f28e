"""Delivering: claim due deliveries, send them concurrently, log each attempt, decide what comes next."""
from __future__ import annotations

import os
import secrets
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from events.models import Event
from hookline.conf import hookline_settings
from hooks import states
from hooks.models import Webhook

from . import batching, control, messages, observe, retry, transport
from .exceptions import BodyTooLarge, TransformFailed
from .models import Attempt, Delivery
from .retry import Outcome

# Seconds of a claim's lease kept for writing the results after the last request ended.
RECORD_TIME = 1.0
DELIVERY_FIELDS = [
    "status", "attempts", "total_attempts", "next_attempt_at", "claimed_until", "claim_token",
    "last_status_code", "last_error", "completed_at", "batch_id",
]


@dataclass(frozen=True)
class ScheduledRetry:
    delivery_id: int
    delay: float
    waiting: bool = False  # held back by delivery control (control.py): not sent, no attempt used


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


def deliver(delivery_ids: list[int]) -> list[ScheduledRetry]:
    """Send the due, unclaimed deliveries among these ids; returns the retries to schedule."""
    started = time.monotonic()
    return deliver_claimed(claim(delivery_ids, timezone.now()), started=started)


def deliver_claimed(claimed: list[Delivery], *, started: float) -> list[ScheduledRetry]:
    """Send deliveries this worker claimed (with event and webhook attached); returns the retries to schedule.

    ``started`` is when the claim was taken (time.monotonic()): the lease runs from then.
    """
    if not claimed:
        return []
    claimed = batching.gather(claimed)  # a batch endpoint's deliveries travel together
    now = timezone.now()
    admission = control.admit(claimed, now)
    waits = [ScheduledRetry(delivery_id, delay, waiting=True) for delivery_id, delay in admission.waits]
    claimed = admission.send
    if not claimed:
        return waits
    claimed.sort(key=lambda delivery: delivery.webhook_id)  # neighbours share a keep-alive connection
    bodies = messages.BodyCache()
    outgoing: list[tuple[list[Delivery], transport.OutgoingRequest]] = []
    batched: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        webhook = delivery.webhook
        if not webhook.enabled:
            status = Delivery.Status.FAILED if webhook.state == Webhook.State.INVALID else Delivery.Status.CANCELLED
            _close(delivery, status, f"not sent: the endpoint is {webhook.state}", now)
            continue
        try:
            if batching.is_batched(webhook):
                if bodies.item(delivery.event, webhook.payload_version) is not None:
                    batched[webhook.id].append(delivery)
                    continue
                body = None
            else:
                body = bodies.body(delivery.event, webhook.payload_version, webhook.delivery_contract.body)
        except TransformFailed as exc:
            _close(delivery, Delivery.Status.FAILED, str(exc), now)
            continue
        if body is None:
            _close(delivery, Delivery.Status.CANCELLED, f"skipped by payload version {webhook.payload_version}", now)
            continue
        outgoing.append(([delivery], messages.build_request(delivery.event, webhook, body)))
    for members in batched.values():
        outgoing += _batch_requests(members, bodies)
    # A request that cannot start while its claim still has TOTAL_TIMEOUT (and the write) left is not
    # sent now: the sweeper would hand the delivery to another worker while this one still sends it.
    start_by = started + hookline_settings.CLAIM_LEASE - hookline_settings.TOTAL_TIMEOUT - RECORD_TIME
    results = send_all([request for _, request in outgoing], start_by=start_by)
    unsent = [delivery for (members, _), result in zip(outgoing, results) if result is None for delivery in members]
    for delivery in unsent:
        delivery.claimed_until, delivery.claim_token = None, ""  # released, and queued again at once
    sent = [Sent(delivery, request, result) for (members, request), result in zip(outgoing, results)
            if result is not None for delivery in members]
    retries = record(claimed, sent)
    return retries + [ScheduledRetry(delivery.id, 0.0) for delivery in unsent] + waits


def _batch_requests(
    members: list[Delivery], bodies: messages.BodyCache,
) -> list[tuple[list[Delivery], transport.OutgoingRequest]]:
    """One request per batch of this endpoint's deliveries: a JSON array, signed once, under the batch id."""
    webhook = members[0].webhook
    contract = webhook.delivery_contract
    requests = []
    for batch in batching.group(members, contract.batch.max_count):
        items = [messages.shaped(d.event, *bodies.item(d.event, webhook.payload_version), contract.body) for d in batch]
        try:
            body = messages.bounded(messages.dumps(items))
        except BodyTooLarge as exc:  # the batch fails with the reason; nothing is sent
            for delivery in batch:
                _close(delivery, Delivery.Status.FAILED, str(exc), timezone.now())
            continue
        requests.append((batch, messages.build_request(batch[0].event, webhook, body, msg_id=batch[0].batch_id)))
    return requests


def claim(delivery_ids: list[int], now) -> list[Delivery]:
    """Take a lease on the pending, due, unclaimed deliveries among these ids: a duplicate sends nothing."""
    return _claim(Delivery.objects.claimable(now).filter(id__in=delivery_ids), now)


def claim_due(now, limit: int, *, token: str | None = None, lease=None) -> list[Delivery]:
    """Take a lease on up to ``limit`` due deliveries, oldest due first, skipping rows another worker locks."""
    due = Delivery.objects.claimable(now).order_by("next_attempt_at")[:limit]
    return _claim(due, now, token=token, lease=lease, skip_locked=True)


def _claim(deliveries, now, *, token: str | None = None, lease=None, skip_locked: bool = False) -> list[Delivery]:
    """One ``UPDATE … RETURNING``: the claimed rows come back with the claim, then their events and endpoints."""
    token = token or secrets.token_hex(8)
    lease = lease or now + timedelta(seconds=hookline_settings.CLAIM_LEASE)
    claimed = deliveries.claim(token=token, lease=lease, skip_locked=skip_locked)
    if not claimed:
        return []
    events = Event.objects.in_bulk({delivery.event_id for delivery in claimed})
    webhooks = Webhook.objects.in_bulk({delivery.webhook_id for delivery in claimed})
    for delivery in claimed:
        delivery.event, delivery.webhook = events[delivery.event_id], webhooks[delivery.webhook_id]
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


def record(claimed: list[Delivery], sent: list[Sent]) -> list[ScheduledRetry]:
    """Write the attempts, the deliveries' new state and their endpoints' changes in one transaction."""
    now = timezone.now()
    token = next((one.delivery.claim_token for one in sent), "")
    attempts, retries, changes, outcomes = [], [], [], []
    batch_decisions: dict[str, retry.Decision] = {}  # a batch's members share one decision (one jitter)
    for one in sent:
        delivery, result = one.delivery, one.result
        decision = batch_decisions.get(delivery.batch_id) if delivery.batch_id else None
        if decision is None:
            decision = retry.decide(result.status, delivery.attempts + 1, result.headers.get("Retry-After"),
                                    delivery.webhook.delivery_contract.policy)
            if delivery.batch_id:
                batch_decisions[delivery.batch_id] = decision
        decision, counted = control.probe_decision(delivery, decision)
        attempts.append(log_attempt(one, decision, now))
        if not counted:
            delivery.attempts -= 1
        outcomes.append((delivery, decision.outcome))
        if decision.outcome is Outcome.RETRY:
            retries.append(ScheduledRetry(delivery.id, decision.delay))
        if decision.outcome in ENDPOINT_CHANGES:
            changes.append((delivery.webhook, ENDPOINT_CHANGES[decision.outcome]))
    try:
        _write(claimed, attempts, changes, outcomes, now)
    except (OperationalError, InterfaceError):
        # The connection sat idle while we sent, and a database restart or failover may have cut it.
        # Sent but unrecorded means sent again after the lease: reconnect and write once more,
        # unless the first commit went through after all (then the claim is gone).
        if not token or connection.in_atomic_block:
            raise
        connection.close()
        if Delivery.objects.filter(id__in=[delivery.id for delivery in claimed], claim_token=token).exists():
            for attempt in attempts:
                attempt.pk = None  # ids the rolled-back INSERT returned
            _write(claimed, attempts, changes, outcomes, now)
    observe.recorded(claimed, attempts, now)  # metrics and log lines (issue 16): one call per batch
    return retries


def _write(claimed: list[Delivery], attempts: list[Attempt], changes: list[tuple[Webhook, states.Change]],
           outcomes: list[tuple[Delivery, Outcome]], now) -> None:
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts)
        save_states(claimed)
        _change_endpoints(changes)
        control.record_outcomes(outcomes, now)


def save_states(deliveries: list[Delivery]) -> None:
    """Write the deliveries' DELIVERY_FIELDS with one UPDATE per distinct set of values.

    A batch mostly ends alike (all succeeded, first attempt), so this is usually one statement;
    bulk_update()'s CASE per field and row cost more time than the HTTP requests themselves.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for delivery in deliveries:
        groups[tuple(getattr(delivery, name) for name in DELIVERY_FIELDS)].append(delivery.id)
    for values, ids in groups.items():
        Delivery.objects.filter(id__in=ids).update(**dict(zip(DELIVERY_FIELDS, values)))


def log_attempt(sent: Sent, decision: retry.Decision, now) -> Attempt:
    """Apply ``decision`` to the sent delivery (not saved) and return its Attempt (not saved)."""
    delivery, request, result = sent.delivery, sent.request, sent.result
    delivery.attempts += 1
    delivery.total_attempts += 1
    delivery.last_status_code = result.status
    delivery.last_error = result.error[:500]
    delivery.claimed_until, delivery.claim_token = None, ""
    next_retry_at = None
    if decision.outcome is Outcome.SUCCEEDED:
        delivery.status, delivery.completed_at, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, now, None
    elif decision.outcome is Outcome.RETRY:
        next_retry_at = delivery.next_attempt_at = now + timedelta(seconds=decision.delay)
    else:
        delivery.status, delivery.completed_at, delivery.next_attempt_at = Delivery.Status.FAILED, now, None
    request_body, request_truncated = messages.logged_body(request.body)
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


def _close(delivery: Delivery, status: str, reason: str, now) -> None:
    delivery.status, delivery.last_error, delivery.completed_at = status, reason, now
    delivery.next_attempt_at, delivery.claimed_until, delivery.claim_token = None, None, ""


def _change_endpoints(changes: list[tuple[Webhook, states.Change]]) -> None:
    done: set[tuple[int, states.Change]] = set()
    for webhook, change in changes:
        if (webhook.id, change) not in done:  # a batch holds many deliveries to one endpoint
            done.add((webhook.id, change))
            states.transition(webhook, change)
