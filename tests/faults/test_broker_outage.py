"""Scenario 2: the broker is down while the web side emits; the workers deliver everything within seconds of its
return."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

import events
from deliveries.models import Delivery
from tests.faults.conftest import BROKERS, SHORT, scaled, swept, wakeups_received
from tests.support.ledger import account, delivery_log_problems, statuses
from tests.support.receiver import always, read_journal
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# The bound: stranded work is delivered within this many seconds of the broker's return
# (the workers' periodic check takes it after STRANDED_AFTER, within WORKER_CHECK_INTERVAL).
RECOVERY_BOUND = 10.0


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_events_emitted_during_a_broker_outage_are_all_delivered(
    broker, workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given: a worker with beat, and the web side (this process) publishing to the same private broker
    event_type("invoice.paid")
    _, secret = make_webhook(journal_receiver.on("/r", always(200)), event_types=["invoice.*"])
    worker = workers(hookline=SHORT, beat=True)
    count, outage = scaled(300, 1000), scaled(10, 20)
    before, during = count // 5, count * 3 // 5
    emitted, emitted_at, durations = {}, {}, []

    def emit(n: int) -> None:
        started = time.monotonic()
        with transaction.atomic():  # one web request: emit, then commit (the enqueue runs on commit)
            emitted[n] = events.emit("invoice.paid", {"n": n}, organisation=organisation).id
        emitted_at[n] = time.time()
        durations.append(time.monotonic() - started)

    # when: a fifth is emitted (and delivered) before the outage, three fifths during it, the rest after
    started = time.monotonic()
    for n in range(before):
        emit(n)
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == before, timeout=60, message="before")
    wakeups_before = wakeups_received(worker)  # single emits, one per transaction, with the broker up
    broker.stop()
    down_at = time.monotonic()
    for n in range(before, before + during):
        emit(n)
        time.sleep(max(0.0, down_at + outage * (n - before + 1) / during - time.monotonic()))
    broker.start()
    up_at, up_wall = time.monotonic(), time.time()
    for n in range(before + during, count):
        emit(n)

    # then: every emit returned, and every event is delivered, with no manual step
    wait_until(
        lambda: Delivery.objects.filter(status="succeeded").count() == count,
        timeout=scaled(90, 180),
        interval=0.2,
        message="every event delivered",
    )
    drained = time.monotonic()
    received = read_journal(journal_receiver.journal_path)
    tally = account(received, emitted, {"/r": secret})
    arrived = {request.json["data"]["n"]: request.at for request in received}
    late = [arrived[n] - emitted_at[n] for n in range(before, count)]  # emitted during or after the outage
    recovery = max(arrived[n] for n in range(before, count)) - up_wall
    figures.update(
        broker=broker.kind,
        events=count,
        emitted_during_outage=during,
        outage_seconds=round(up_at - down_at, 1),
        emit_max_ms=round(max(durations) * 1000, 1),
        emit_p99_ms=round(sorted(durations)[int(len(durations) * 0.99)] * 1000, 1),
        recovery_after_broker_back_seconds=round(recovery, 1),
        emit_to_delivery_p50_seconds=round(sorted(late)[len(late) // 2], 1),
        emit_to_delivery_max_seconds=round(max(late), 1),
        drain_seconds=round(drained - started, 1),
        drain_after_broker_back_seconds=round(drained - up_at, 1),
        wakeups_received=wakeups_received(worker),
        wakeups_per_delivery_before_outage=round(wakeups_before / before, 2),
        **tally.figures(),
        **swept(worker),
    )
    print(
        f"\nbroker back -> last delivery: {recovery:.1f} s; emit -> delivery: p50 "
        f"{figures['emit_to_delivery_p50_seconds']} s, max {figures['emit_to_delivery_max_seconds']} s"
    )
    assert len(emitted) == count
    assert max(durations) < 2, "an emit waited for the broker"  # kombu's connect retries took 6 s each
    assert tally.lost == 0, tally.missing
    assert tally.duplicates == 0, "a delivery was sent twice"
    assert recovery <= RECOVERY_BOUND, f"delivered {recovery:.1f} s after the broker returned"
    assert not tally.mixed_ids and not tally.foreign and not tally.bad_signatures
    assert statuses() == {"succeeded": count}
    assert delivery_log_problems() == []
