"""Scenario 1: workers killed with SIGKILL while deliveries are in flight; nothing is lost."""

from __future__ import annotations

import os
import random
import time

import pytest

from deliveries.models import Delivery
from events.models import Event
from tests.faults.conftest import BROKERS, SHORT, emit_numbered, scaled, wakeups_received
from tests.support.ledger import account, delivery_log_problems, statuses
from tests.support.receiver import always, read_journal
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_worker_killed_mid_flight_loses_nothing(
    broker, workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given: two endpoints that take a moment to answer, so kills land on requests in flight
    event_type("invoice.paid")
    secrets = {}
    for path in ("/a", "/b"):
        _, secrets[path] = make_webhook(journal_receiver.on(path, always(200, delay=0.05)), event_types=["invoice.*"])
    seed = int(os.environ.get("HOOKLINE_FAULTS_SEED", time.time()))
    rng = random.Random(seed)
    # Few sender threads: a batch stays claimed (in flight) for a while.
    options = {"hookline": {**SHORT, "SEND_CONCURRENCY": 2}, "concurrency": 2}
    running = [workers(beat=True, **options), workers(**options)]
    count, kills = scaled(300, 2000), scaled(3, 4)
    total = count * len(secrets)

    # when: the events are emitted, and workers are killed at random points of the delivery
    started = time.monotonic()
    emitted = emit_numbered(range(count), organisation)
    killed_at = []
    for fraction in sorted(rng.uniform(0.1, 0.8) for _ in range(kills)):
        wait_until(
            lambda fraction=fraction: Delivery.objects.filter(status="succeeded").count() >= fraction * total,
            timeout=scaled(120, 300),
            interval=0.05,
            message=f"{fraction:.0%} delivered",
        )
        index = rng.randrange(len(running))
        in_flight = wait_until(
            lambda: Delivery.objects.filter(status="pending", claimed_until__isnull=False).count(),
            timeout=30,
            interval=0.01,
            message="a claimed delivery",
        )
        running[index].kill()
        # Claims held at that moment (those of workers killed before, until their lease ends, included).
        killed_at.append({"fraction": round(fraction, 2), "claimed_at_kill": in_flight, "beat": index == 0})
        running[index] = workers(beat=index == 0, **options)
    last_kill = time.monotonic()

    # then: every pair arrives, duplicates carry the event's webhook-id, and the log is consistent
    wait_until(
        lambda: Delivery.objects.filter(status="succeeded").count() == total,
        timeout=scaled(120, 300),
        interval=0.2,
        message="every delivery succeeded",
    )
    drained = time.monotonic()
    tally = account(read_journal(journal_receiver.journal_path), emitted, secrets)
    figures.update(
        broker=broker.kind,
        events=count,
        deliveries=total,
        kills=killed_at,
        seed=seed,
        **tally.figures(),
        drain_seconds=round(drained - started, 1),
        heal_after_last_kill_seconds=round(drained - last_kill, 1),
        rss_mib_after=[round(worker.rss_bytes() / 2**20, 1) for worker in running],
        wakeups_received=wakeups_received(*running),
    )
    assert tally.lost == 0, tally.missing
    assert not tally.mixed_ids and not tally.foreign and not tally.bad_signatures
    assert statuses() == {"succeeded": total}
    assert delivery_log_problems() == []
    assert not Event.objects.undispatched().exists()
    assert all(kill["claimed_at_kill"] for kill in killed_at), "a kill found nothing in flight"
