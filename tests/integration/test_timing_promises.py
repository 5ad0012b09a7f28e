"""Timing promises (issue 21), each through real `celery worker` processes, PostgreSQL, Redis and a loopback receiver.

- a retry is never sent before its due time, and at most ~250 ms after it under light load;
- a batch endpoint sends a batch as soon as it reaches max_count, not after max_wait;
- one endpoint hanging until the read timeout does not delay another endpoint's new deliveries;
- a rate limit is met within ±10 % over 30 s, with the README's worker command and with one process.

Every wait is on a condition with a deadline; the bounds leave room for this shared 2-core machine
but stay far below what a broken promise costs (a second early, a whole max_wait, a read timeout).
Each failure message carries the measured figures.
"""

from __future__ import annotations

import os
import statistics
import time

import pytest
from django.db import transaction

import events
from deliveries.models import Attempt, Delivery
from tests.support.receiver import Reply, always
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# README, "Performance": this command once per CPU core.
README_WORKER = ["--pool", "threads", "--concurrency", "8", "--loglevel", "INFO"]
CORES = os.cpu_count() or 1
PROCESSES = pytest.mark.parametrize("processes", [1, CORES], ids=["one-process", "readme-once-per-core"])
# How late a retry, or a healthy endpoint's new delivery, may be: the promise (~250 ms), and the worst
# single case allowed on this loaded machine (a broken promise is late by a second or more).
ON_TIME = 0.25
WORST = 0.5


def start_readme_workers(start_worker, processes: int, **kwargs) -> list:
    workers = [start_worker(ready=False, options=README_WORKER, **kwargs) for _ in range(processes)]
    for worker in workers:
        worker.wait_ready()
    return workers


def emit_one(key: str, payload: dict, organisation) -> tuple[str, float]:
    """One emit() in its own transaction (DESIGN.md's workload); the event id and the time just before it."""
    started = time.time()
    with transaction.atomic():
        event = events.emit(key, payload, organisation=organisation)
    return event.id, started


def fails_first_time():
    """500 the first time a webhook-id arrives, 200 after: every delivery is retried exactly once."""
    seen: set[str] = set()

    def behaviour(request, count):
        first = request.webhook_id not in seen
        seen.add(request.webhook_id)
        return Reply(500 if first else 200)

    return behaviour


def retry_lateness(receiver, path: str, webhook) -> list[float]:
    """For each retried delivery: the retry's arrival minus the due time its failed attempt recorded."""
    due = dict(
        Attempt.objects.filter(delivery__webhook=webhook, number=1, succeeded=False).values_list(
            "delivery__event_id", "next_retry_at"
        )
    )
    arrivals: dict[str, list[float]] = {}
    for request in receiver.at(path):
        arrivals.setdefault(request.webhook_id, []).append(request.at)
    assert set(due) == set(arrivals), "every delivery failed once and was retried"
    return [sorted(arrivals[event_id])[1] - due[event_id].timestamp() for event_id in due]


def describe(values: list[float]) -> str:
    return (
        f"lateness (s): min {min(values):+.3f}, median {statistics.median(values):+.3f}, max {max(values):+.3f}; "
        f"all: {', '.join(f'{value:+.3f}' for value in sorted(values))}"
    )


# --- a. retries: never early, at most ~250 ms late -------------------------------------------------


@pytest.mark.latency
def test_a_retry_is_sent_at_its_due_time_when_quiet(start_worker, receiver, make_webhook, event_type):
    # given: an endpoint whose first answer to each event is a 500, retried after exactly 1.5 s
    event_type("invoice.paid")
    webhook, _ = make_webhook(
        receiver.on("/flaky", fails_first_time()), contract={"policy": {"delays": [1.5], "attempts": 2}}
    )
    start_readme_workers(start_worker, 1)

    # when: three events, one at a time, nothing else going on
    for n in range(3):
        emit_one("invoice.paid", {"n": n}, webhook.organisation)
        wait_until(
            lambda n=n: Delivery.objects.filter(status="succeeded").count() == n + 1,
            timeout=30,
            message=f"event {n} retried and delivered",
        )

    # then: each retry went out at its due time: not before, and at most ~250 ms after
    lateness = retry_lateness(receiver, "/flaky", webhook)
    assert min(lateness) >= -0.001, "a retry was sent before its due time: " + describe(lateness)
    assert max(lateness) <= ON_TIME, "a retry was sent late: " + describe(lateness)


@pytest.mark.latency
def test_a_retry_is_never_sent_early_under_light_load(start_worker, receiver, make_webhook, event_type):
    # given: a steady light stream (4 events/s) to a healthy endpoint and a flaky one (1 s retry delay)
    event_type("invoice.paid")
    organisation = make_webhook(receiver.on("/healthy", always(200)))[0].organisation
    flaky, _ = make_webhook(
        receiver.on("/flaky", fails_first_time()), contract={"policy": {"delays": [1.0], "attempts": 2}}
    )
    start_readme_workers(start_worker, CORES)

    # when: 24 events over 6 s, paced, one per transaction
    base = time.monotonic()
    for n in range(24):
        time.sleep(max(0.0, base + n * 0.25 - time.monotonic()))
        emit_one("invoice.paid", {"n": n}, organisation)
    wait_until(
        lambda: Delivery.objects.filter(webhook=flaky, status="succeeded").count() == 24,
        timeout=60,
        message="24 retried deliveries succeeded",
    )

    # then: the other runs of the stream never took a retry before its due time, nor much after it
    lateness = retry_lateness(receiver, "/flaky", flaky)
    assert min(lateness) >= -0.001, "a retry was sent before its due time: " + describe(lateness)
    assert statistics.median(lateness) <= ON_TIME, "retries were sent late: " + describe(lateness)
    assert max(lateness) <= WORST, "a retry was sent late: " + describe(lateness)


# --- b. batches: sent when full, not after max_wait ------------------------------------------------


@pytest.mark.latency
def test_a_batch_is_sent_as_soon_as_it_reaches_max_count_and_a_partial_one_after_max_wait(
    start_worker, receiver, make_webhook, event_type
):
    # given: a batch endpoint of 10 events per request, waiting up to 5 s for a batch to fill
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/batch", always(200)), contract={"batch": {"max_count": 10, "max_wait": 5}})
    start_readme_workers(start_worker, CORES)

    # when: 10 events, one per transaction
    full_at = [emit_one("invoice.paid", {"n": n}, webhook.organisation)[1] for n in range(10)][-1]

    # then: the full batch goes out at once, not 5 s later
    first = wait_until(lambda: receiver.at("/batch"), timeout=15, message="the full batch")[0]
    assert isinstance(first.json, list) and len(first.json) == 10, first.json
    assert sorted(element["data"]["n"] for element in first.json) == list(range(10))
    waited = first.at - full_at
    assert waited <= WORST, f"the full batch was sent {waited:.3f} s after its 10th event (max_wait 5 s)"

    # and when: 3 more events, a batch that does not fill
    partial_started = emit_one("invoice.paid", {"n": 10}, webhook.organisation)[1]
    for n in (11, 12):
        emit_one("invoice.paid", {"n": n}, webhook.organisation)

    # then: it waits for max_wait (taken from its first event), and goes out then
    second = wait_until(lambda: receiver.at("/batch")[1:], timeout=20, message="the partial batch")[0]
    assert len(second.json) == 3, second.json
    waited = second.at - partial_started
    assert 5 - 1.0 <= waited <= 5 + WORST, f"the partial batch was sent {waited:.3f} s after its first event"
    assert len(receiver.at("/batch")) == 2


# --- c. isolation: a hanging endpoint does not hold back another one's new deliveries ---------------


@pytest.mark.latency
@PROCESSES
def test_a_hanging_endpoint_does_not_delay_another_endpoints_new_deliveries(
    processes, start_worker, receiver, make_webhook, event_type
):
    # given: one endpoint hangs past the read timeout (10 s, the default); another answers at once
    event_type("invoice.paid")
    event_type("order.stuck")
    hanging, _ = make_webhook(receiver.on("/hang", always(200, delay=15.0)), event_types=["order.stuck"])
    healthy, _ = make_webhook(receiver.on("/healthy", always(200)), event_types=["invoice.paid"])
    start_readme_workers(start_worker, processes)
    emit_one("order.stuck", {"n": 0}, hanging.organisation)
    hang_started = wait_until(lambda: receiver.at("/hang"), timeout=15, message="the hanging request")[0].at

    # when: 5 events for the healthy endpoint, one per transaction, 0.2 s apart, while the other hangs
    emitted = {}
    for n in range(5):
        event_id, started = emit_one("invoice.paid", {"n": n}, healthy.organisation)
        emitted[event_id] = started
        time.sleep(0.2)
    assert time.time() < hang_started + 10, "the healthy events were emitted during the hang"

    # then: each arrives within ~250 ms of its emit, not when the hang ends
    wait_until(lambda: len(receiver.at("/healthy")) >= 5, timeout=30, message="5 healthy deliveries")
    latency = sorted(request.at - emitted[request.webhook_id] for request in receiver.at("/healthy"))
    figures = ", ".join(f"{value:.3f}" for value in latency)
    assert statistics.median(latency) <= ON_TIME, f"healthy emit → arrival (s): {figures}"
    assert max(latency) <= WORST, f"healthy emit → arrival (s): {figures}"


# --- d. rate limits: met within ±10 % over 30 s -----------------------------------------------------


@PROCESSES
@pytest.mark.parametrize(
    "burst",
    [
        pytest.param(None, id="burst-one-second"),
        # A bucket of one token loses any lateness for good: met because a worker takes the next second's
        # tokens ahead and its senders wait for each (RATE_LIMIT_WAIT), not a wake-up per token.
        pytest.param(1, id="burst-1"),
    ],
)
def test_a_rate_limit_of_10_per_second_is_met_within_10_percent_over_30_s(
    processes, burst, start_worker, receiver, make_webhook, event_type
):
    # given: a limit of 10/s, with the default burst (one second's worth) or none (evenly spaced
    # requests), and far more waiting than 30 s can send
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/limited", always(200)), rate_limit=10, rate_limit_burst=burst)
    start_readme_workers(start_worker, processes)

    # when
    with transaction.atomic():
        for n in range(600):
            events.emit("invoice.paid", {"n": n}, organisation=webhook.organisation)

    # then: what arrives in the 30 s after the first request
    first = wait_until(lambda: receiver.at("/limited"), timeout=30, message="a first request")[0].at
    wait_until(lambda: time.time() >= first + 30.5, timeout=40, interval=0.5, message="30 s of sending")
    window = [request for request in receiver.at("/limited") if request.at < first + 30]
    rate = len(window) / 30
    assert 10 * 0.9 <= rate <= 10 * 1.1, f"{len(window)} requests in 30 s: {rate:.2f}/s for a limit of 10/s"
    assert not Delivery.objects.filter(attempts__gt=1).exists(), "waiting for the limit used no attempts"
