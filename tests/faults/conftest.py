"""Fault-injection fixtures: a private broker that can be stopped, workers on it, sizes, and the figures report."""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from pathlib import Path

import pytest
from django.db import transaction

import events
from tests.conftest import IN_CI
from tests.support.broker import RabbitMQVhost, RedisServer, celery_broker
from tests.support.receiver import Receiver

# `make faults` sets this: the sizes of the issue. Without it (CI), smaller counts keep the suite short.
FULL = os.environ.get("HOOKLINE_FAULTS_FULL", "") == "1"
REPORT = Path(__file__).resolve().parents[2] / "var" / "faults-report.json"

# The shortened schedule: seconds instead of days, and a sweeper that heals within seconds.
# CLAIM_LEASE stays above TOTAL_TIMEOUT (plus the batch's queueing) so a lease never ends mid-send.
SHORT = {
    "RETRY_BASE_DELAY": 0.5,
    "RETRY_MAX_DELAY": 2,
    "RETRY_JITTER": 0,
    "MAX_ATTEMPTS": 4,
    "CONNECT_TIMEOUT": 1,
    "READ_TIMEOUT": 2,
    "TOTAL_TIMEOUT": 4,
    "CLAIM_LEASE": 8,
    "SWEEP_INTERVAL": 1,
    "SWEEP_AFTER": 3,
}


def scaled(fast: int, full: int) -> int:
    return full if FULL else fast


BROKERS = ["redis", "rabbitmq"]


@pytest.fixture
def broker(real_services, tmp_path, request):
    """A broker of this test's own that it may take down; this process publishes to it while the test runs.

    Redis by default: a redis-server on a free port (a restart loses every message). A test runs on
    both with ``@pytest.mark.parametrize("broker", BROKERS, indirect=True)``; RabbitMQ is a vhost of
    its own behind a forwarder the test can cut (tests/support/broker.py: RabbitMQVhost).
    """
    kind = getattr(request, "param", "redis")
    if kind == "rabbitmq":
        server = RabbitMQVhost(tmp_path / "rabbitmq.log")
        message = "needs RabbitMQ at 127.0.0.1:5672 and rabbitmqctl (TEST_RABBITMQ_URL)"
    else:
        server = RedisServer(tmp_path / "redis.log")
        message = "needs the redis-server binary (the broker-outage scenarios start their own)"
    if not server.available():
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if kind == "rabbitmq":
        server.create()
    else:
        server.start()
    try:
        with celery_broker(server.url):
            yield server
    finally:
        if kind == "rabbitmq":
            server.remove()
        else:
            server.stop()


@pytest.fixture
def workers(broker, start_worker):
    """``workers(hookline={...}, beat=True)``: real workers on the private broker (see start_worker)."""

    def start(**kwargs):
        kwargs["extra_env"] = {"CELERY_BROKER_URL": broker.url, **kwargs.get("extra_env", {})}
        return start_worker(**kwargs)

    return start


@pytest.fixture
def journal_receiver(tmp_path):
    """A receiver that also journals every request to a file, read back for the accounting."""
    with Receiver(journal=tmp_path / "received.jsonl") as running:
        yield running


@pytest.fixture
def figures(request):
    """A dict the scenario fills with its figures; written to var/faults-report.json for docs/reliability.md."""
    collected: dict = {"mode": "full" if FULL else "fast"}
    yield collected
    REPORT.parent.mkdir(exist_ok=True)
    with open(REPORT.with_suffix(".lock"), "w") as lock:  # pytest-xdist: scenarios end in parallel
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
        report[request.node.name] = {**collected, "at": time.strftime("%Y-%m-%d %H:%M:%S")}
        REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"\n{request.node.name}: {json.dumps(collected, sort_keys=True)}")


def swept(*running, periodic: bool = True) -> dict[str, int]:
    """What the sweeper (beat) and, with ``periodic``, the workers' periodic check healed, summed from
    these workers' logs (their INFO line per pass that found work; either may get to stranded work first)."""
    who = "(?:Sweeper|Periodic check)" if periodic else "Sweeper"
    found = [
        (int(events_count), int(deliveries_count))
        for worker in running
        for events_count, deliveries_count in re.findall(
            who + r": fanned out (\d+) stranded event\(s\), (?:enqueued|sent) (\d+) delivery",
            worker.log(),
        )
    ]
    return {"swept_events": sum(e for e, _ in found), "swept_deliveries": sum(d for _, d in found)}


def wakeups_received(*running) -> int:
    """Wake-up messages these workers took (Celery logs one INFO line per task received)."""
    return sum(len(re.findall(r"Task hookline\.work\[[^\]]+\] received", worker.log())) for worker in running)


def emit_numbered(numbers, organisation, *, key: str = "invoice.paid", batch: int = 100) -> dict[int, str]:
    """Emit one event per number (payload ``{"n": n}``), committing every ``batch``; returns n -> event id."""
    numbers = list(numbers)
    emitted = {}
    for start in range(0, len(numbers), batch):
        with transaction.atomic():
            made = events.emit_many([(key, {"n": n}, organisation) for n in numbers[start : start + batch]])
        emitted.update({event.payload["n"]: event.id for event in made})
    return emitted
