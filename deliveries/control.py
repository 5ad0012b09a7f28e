"""Delivery control per endpoint: pause (held deliveries), circuit breaker, FIFO order and rate limit, applied to each
claim.

A run claims deliveries as it always has; ``admit`` then decides, per endpoint, which of them go out
now. The others are released with a later ``next_attempt_at`` (or the status ``held``) and their
attempts untouched: waiting for a rate limit, a breaker or a FIFO head never burns a retry. Endpoints
without any of these options cost a Python attribute check per delivery and no query.

The options are the endpoint's contract (``contract.control``, hooks.contracts); what this module
writes (breaker, pause, the database bucket) is the endpoint's ``EndpointRuntime`` row, never the
``Webhook`` row people edit. The runtime row is loaded with the claimed endpoints (no extra query).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hookline.conf import hookline_settings
from hooks.contracts import ResolvedControl
from hooks.models import Webhook

from . import buckets, lifecycle, wakeup
from .alerts import moments as alerts  # operational alerts (issue 25)
from .models import Delivery, EndpointRuntime, runtime_of
from .retry import Decision, Outcome

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
# Seconds the deliveries behind a half-open breaker's probe wait before they look again.
PROBE_WAIT = 1.0
# Outcomes that end a delivery: a FIFO endpoint's next delivery may go.
FINAL = frozenset({Outcome.SUCCEEDED, Outcome.FAILED, Outcome.REJECTED, Outcome.GONE})
# (delivery, until): the claimed deliveries a rule keeps back, released with that due time.
Waiting = list[tuple[Delivery, datetime]]


@dataclass
class Admission:
    send: list[Delivery] = field(default_factory=list)
    # (delivery id, seconds): released for later; a held delivery has no due time (math.inf)
    waits: list[tuple[int, float]] = field(default_factory=list)


def is_controlled(webhook: Webhook) -> bool:
    """Whether a receiving endpoint's deliveries go through ``admit`` at all (the fast path's one check)."""
    runtime = runtime_of(webhook)
    return (
        bool(runtime.paused or webhook.delivery_contract.controlled or runtime.breaker_state != CLOSED)
        and webhook.enabled
    )


def options(webhook: Webhook) -> ResolvedControl:
    """The endpoint's delivery-control options, defaults resolved (hooks.contracts.Contract.effective)."""
    return webhook.delivery_contract.effective().control


def admit(claimed: list[Delivery], now: datetime, *, rate_wait: float = 0.0) -> Admission:
    """Split claimed deliveries into those sent now and those released to wait (written here).

    ``rate_wait``: seconds ahead a rate limit may hand out tokens; a delivery given one that is not
    there yet carries ``send_after`` (seconds from ``now``), and its sender waits for it in-process."""
    if not any(is_controlled(delivery.webhook) for delivery in claimed):
        return Admission(send=claimed)
    admission, by_endpoint = Admission(), defaultdict(list)
    for delivery in claimed:
        if is_controlled(delivery.webhook):
            by_endpoint[delivery.webhook_id].append(delivery)
        else:
            admission.send.append(delivery)
    held: list[Delivery] = []
    waiting: Waiting = []
    for group in by_endpoint.values():
        webhook = group[0].webhook
        group.sort(key=lambda delivery: (delivery.event.created_at, delivery.id))
        if runtime_of(webhook).paused:
            held += group
            continue
        # FIFO first: the breaker's probe (and a token) must go to the head, not to a delivery that waits.
        for rule in (_fifo, _breaker):
            group = rule(webhook, group, now, waiting)
        admission.send += _rate(webhook, group, now, waiting, ahead=rate_wait)
    _hold(held)
    admission.waits = _release(waiting, now) + [(delivery.id, math.inf) for delivery in held]
    return admission


# --- the rules: each returns the deliveries it lets through and appends the others to ``waiting`` ---


def _breaker(webhook: Webhook, group: list[Delivery], now: datetime, waiting: Waiting) -> list[Delivery]:
    """Open: all wait for the cool-down's end. Then one delivery (the probe) takes the half-open slot."""
    runtime = runtime_of(webhook)
    if runtime.breaker_state == CLOSED or not group:
        return group
    if runtime.breaker_until and runtime.breaker_until > now:
        # Open: until the cool-down ends. Half-open: breaker_until is the probe's claim (up to CLAIM_LEASE
        # away); the deliveries behind it look again after PROBE_WAIT, as those claimed with the probe do.
        until = (
            runtime.breaker_until
            if runtime.breaker_state == OPEN
            else min(runtime.breaker_until, now + timedelta(seconds=PROBE_WAIT))
        )
        waiting += [(delivery, until) for delivery in group]
        return []
    # The cool-down is over (or a probe's claim ran out): one conditional UPDATE picks one probe.
    probe_until = now + timedelta(seconds=hookline_settings.CLAIM_LEASE)
    fields = {"breaker_state": HALF_OPEN, "breaker_until": probe_until}
    if runtime.breaker_state == OPEN:
        fields.update(breaker_changed_at=now, breaker_reason="cool-down over: one probe delivery decides")
    taken = EndpointRuntime.objects.filter(
        pk=webhook.pk,
        breaker_state=runtime.breaker_state,
        breaker_until=runtime.breaker_until,
    ).update(**fields)
    later = now + timedelta(seconds=PROBE_WAIT)
    if not taken:
        waiting += [(delivery, later) for delivery in group]
        return []
    for name, value in fields.items():
        setattr(runtime, name, value)
    group[0].breaker_probe = True
    waiting += [(delivery, later) for delivery in group[1:]]
    return group[:1]


def _fifo(webhook: Webhook, group: list[Delivery], now: datetime, waiting: Waiting) -> list[Delivery]:
    """Only the endpoint's head (its oldest pending delivery, in event order) may go."""
    if not webhook.delivery_contract.control.ordered or not group:
        return group
    head = head_of_line(webhook)
    later = now + timedelta(seconds=hookline_settings.FIFO_RECHECK)
    if head is not None and head.pk == group[0].pk and not _older_events_waiting(head):
        waiting += [(delivery, later) for delivery in group[1:]]
        return group[:1]
    if head is not None and head.pk == group[0].pk:  # older events are being fanned out: look again soon
        later = now + timedelta(seconds=PROBE_WAIT)
    waiting += [(delivery, later) for delivery in group]
    return []


def _rate(
    webhook: Webhook, group: list[Delivery], now: datetime, waiting: Waiting, *, ahead: float = 0.0
) -> list[Delivery]:
    """Take tokens from the endpoint's bucket; the k-th delivery over the limit waits k tokens' time.

    Tokens due within ``ahead`` seconds are taken now: their deliveries go with ``send_after``, and wait
    in the worker rather than in the database (a released delivery comes back late: the due time's
    0.1 s step, the wake-up, the claim; a small bucket loses that time for good). The rest are released
    to be claimed ``ahead / 2`` before their tokens are there, so that the next ones are taken in time.
    """
    bucket = options(webhook).bucket
    if bucket is None or not group:
        return group
    rate = float(bucket[0])
    granted, tokens = buckets.take_tokens(webhook.pk, *bucket, len(group), ahead=ahead)
    before = tokens + granted
    for index, delivery in enumerate(group[:granted]):
        wait = (index + 1 - before) / rate
        if wait > 0:
            delivery.send_after = wait
    for index, delivery in enumerate(group[granted:]):
        # Never before its own due time: resume() paced them in order, and the skew lets claims take them early.
        until = now + timedelta(seconds=max(0.0, (index + 1 - tokens) / rate - ahead / 2))
        waiting.append((delivery, max(until, delivery.next_attempt_at or until)))
    return group[:granted]


# --- writing what waits ------------------------------------------------------------------------


def _hold(held: list[Delivery]) -> None:
    """A paused endpoint's claimed deliveries become held (released, attempts untouched)."""
    if held:
        lifecycle.hold(Delivery.objects.filter(id__in=[delivery.id for delivery in held]))


def _release(waiting: Waiting, now: datetime) -> list[tuple[int, float]]:
    """Release the claims with a later due time, one UPDATE per tenth of a second of due time."""
    groups: dict[datetime, list[Delivery]] = defaultdict(list)
    waits = []
    for delivery, until in waiting:
        until = until.replace(microsecond=until.microsecond // 100000 * 100000) + timedelta(milliseconds=100)
        groups[until].append(delivery)
        waits.append((delivery.id, max(0.0, (until - now).total_seconds())))
    for until, group in groups.items():
        lifecycle.release(group, due=until)
    return waits


# --- FIFO -----------------------------------------------------------------------------------------


def head_of_line(webhook: Webhook) -> Delivery | None:
    """The oldest pending delivery of an ordered endpoint, in event order: the one that must go first."""
    return (
        Delivery.objects.filter(webhook_id=webhook.pk, status=Delivery.Status.PENDING)
        .select_related("event")
        .defer("event__payload")
        .order_by("event__created_at", "id")
        .first()
    )


def _older_events_waiting(head: Delivery) -> bool:
    from events.models import Event

    return Event.objects.undispatched().filter(created_at__lt=head.event.created_at).exists()


def skip_head(webhook: Webhook) -> Delivery | None:
    """Cancel an ordered endpoint's head (an operator's decision) so that the next delivery goes."""
    with transaction.atomic():
        head = head_of_line(webhook)
        if head is None:
            return None
        lifecycle.cancel_pending(
            Delivery.objects.filter(pk=head.pk), timezone.now(), "skipped by an operator (head of line)"
        )
        _wake_successor(webhook.pk, timezone.now())
    _wake_on_commit()
    return head


def _wake_successor(webhook_id: int, now: datetime) -> list[int]:
    successor = list(
        Delivery.objects.filter(webhook_id=webhook_id, status=Delivery.Status.PENDING)
        .order_by("event__created_at", "id")
        .values_list("id", flat=True)[:1]
    )
    lifecycle.reschedule(Delivery.objects.filter(id__in=successor), now, only_later=True)
    return successor


# --- after the attempts: the breaker's count and the FIFO successor --------------------------------


def probe_decision(delivery: Delivery, decision: Decision) -> tuple[Decision, bool]:
    """A failed breaker probe waits for the next cool-down; returns (decision, whether the attempt counts).

    The probe is a real, logged attempt, but it tests the endpoint rather than the delivery: its
    failure does not use the delivery's retry budget (an open breaker never burns attempts).
    """
    if not delivery.breaker_probe or decision.outcome in (Outcome.SUCCEEDED, Outcome.GONE):
        return decision, True
    return Decision(Outcome.RETRY, breaker_cooldown(delivery.webhook)), False


def record_outcomes(results: list[tuple[Delivery, Outcome]], now: datetime) -> list[int]:
    """Inside the worker's write: count consecutive failures, open/close breakers, wake FIFO successors.

    Returns the successors made due now. No wake-up is published for them: the run that sent the
    head goes on to its next round and claims them (else the workers' periodic check does).
    """
    woken: list[int] = []
    by_endpoint: dict[int, list[tuple[Delivery, Outcome]]] = defaultdict(list)
    for delivery, outcome in results:
        webhook, runtime = delivery.webhook, runtime_of(delivery.webhook)
        if (
            webhook.delivery_contract.control.ordered
            or runtime.breaker_state != CLOSED
            or runtime.breaker_failures
            or breaker_threshold(webhook)
        ):
            by_endpoint[webhook.pk].append((delivery, outcome))
    for outcomes in by_endpoint.values():
        webhook = outcomes[0][0].webhook
        if webhook.delivery_contract.control.ordered and any(outcome in FINAL for _, outcome in outcomes):
            woken += _wake_successor(webhook.pk, now)
        _count(webhook, [outcome is Outcome.SUCCEEDED for _, outcome in outcomes], now)
    return woken


def breaker_threshold(webhook: Webhook) -> int:
    return options(webhook).breaker_threshold


def breaker_cooldown(webhook: Webhook) -> float:
    return options(webhook).breaker_cooldown


def _count(webhook: Webhook, successes: list[bool], now: datetime) -> None:
    runtime = runtime_of(webhook)
    endpoint = EndpointRuntime.objects.filter(pk=webhook.pk)
    if successes[-1]:
        if runtime.breaker_failures or runtime.breaker_state != CLOSED:
            reason = "the probe succeeded" if runtime.breaker_state != CLOSED else ""
            changed = {"breaker_changed_at": now, "breaker_reason": reason} if reason else {}
            if reason:  # breaker_closed below notifies: the alert lock before the runtime row (alerts/notify.py)
                alerts.lock_first(webhook.pk)
            endpoint.update(breaker_failures=0, breaker_state=CLOSED, breaker_until=None, **changed)
            if reason:  # operational alerts (issue 25)
                alerts.breaker_closed(webhook, reason, now)
        return
    if runtime.pk is None:  # the endpoint's first failure since it had none: its runtime row begins here
        EndpointRuntime.objects.get_or_create(webhook_id=webhook.pk)
    trailing = (
        len(successes) - (max(i for i, ok in enumerate(successes) if ok) + 1) if any(successes) else len(successes)
    )
    threshold = breaker_threshold(webhook)
    failures = F("breaker_failures") + trailing if not any(successes) else trailing
    endpoint.update(breaker_failures=failures)
    count = endpoint.values_list("breaker_failures", flat=True).first() or 0
    if runtime.breaker_state == HALF_OPEN or (threshold and count >= threshold):
        why = "the probe failed" if runtime.breaker_state == HALF_OPEN else f"{count} consecutive failed attempts"
        cooldown = breaker_cooldown(webhook)
        endpoint.update(
            breaker_state=OPEN,
            breaker_changed_at=now,
            breaker_until=now + timedelta(seconds=cooldown),
            breaker_reason=f"{why}; a probe after {cooldown:g} s",
        )
        logger.warning("Circuit breaker of endpoint %s opened: %s", webhook.pk, why)
        if runtime.breaker_state == CLOSED:  # operational alerts (issue 25): not each failed probe
            alerts.breaker_opened(webhook, why, now + timedelta(seconds=cooldown), now)


def reset_breaker(webhook: Webhook) -> None:
    """Close an endpoint's breaker by hand (an operator's decision), and wake what waited for it."""
    was_closed = runtime_of(webhook).breaker_state == CLOSED
    with transaction.atomic():
        if not was_closed:  # it notifies: the alert lock before the runtime row (the order in alerts/notify.py)
            alerts.lock_first(webhook.pk)
        EndpointRuntime.objects.filter(pk=webhook.pk).update(
            breaker_state=CLOSED,
            breaker_failures=0,
            breaker_until=None,
            breaker_changed_at=timezone.now(),
            breaker_reason="closed by an operator",
        )
        if not was_closed:  # operational alerts (issue 25)
            alerts.breaker_closed(webhook, "closed by an operator", timezone.now())
    lifecycle.reschedule(
        Delivery.objects.filter(webhook_id=webhook.pk, status=Delivery.Status.PENDING), timezone.now(), only_later=True
    )
    _wake_on_commit()


# --- pause and resume -----------------------------------------------------------------------------


def pause(webhook: Webhook) -> None:
    """Keep the endpoint's new (and unclaimed pending) deliveries as ``held`` until ``resume``."""
    now = timezone.now()
    with transaction.atomic():
        runtime, _ = EndpointRuntime.objects.update_or_create(
            webhook_id=webhook.pk, defaults={"paused": True, "paused_at": now}
        )
        lifecycle.hold(Delivery.objects.filter(webhook_id=webhook.pk).pending().unleased(now))
    webhook.runtime = runtime


def resume(webhook: Webhook) -> int:
    """Send the held deliveries, oldest first, at the endpoint's rate limit.

    Without a limit their due times are kept (claims take the oldest first). With one, they are
    spread over time at the limit in event order, so that claims still take them in that order and
    the deliveries the bucket refuses do not fall behind younger ones.
    """
    rate_limit = options(webhook).rate_limit
    with transaction.atomic():
        EndpointRuntime.objects.filter(pk=webhook.pk).update(paused=False, paused_at=None)
        held = Delivery.objects.filter(webhook_id=webhook.pk, status=Delivery.Status.HELD)
        if rate_limit:
            _pace(list(held.order_by("event__created_at", "id").values_list("id", flat=True)), rate_limit)
        count = lifecycle.unhold(held)
    runtime = runtime_of(webhook)
    if runtime.pk is not None:
        runtime.paused, runtime.paused_at = False, None
    _wake_on_commit()
    return count


def _pace(ids: list[int], rate: int, slot: float = 0.1) -> None:
    """Due times ``rate`` per second from now, in the order of ``ids``: one UPDATE per ``slot`` seconds."""
    now, per_slot = timezone.now(), max(1, int(rate * slot))
    for start in range(0, len(ids), per_slot):
        due = now + timedelta(seconds=start / rate)
        lifecycle.reschedule(Delivery.objects.filter(id__in=ids[start : start + per_slot]), due)


def _wake_on_commit() -> None:
    def wake() -> None:
        try:
            wakeup.publish()
        except Exception:  # broker down: the workers' periodic check finds the due deliveries
            logger.warning("Could not publish a wake-up", exc_info=True)

    transaction.on_commit(wake)
