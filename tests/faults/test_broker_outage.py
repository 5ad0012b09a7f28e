"""Scenario 2: the broker is down while the web side emits; the sweeper delivers everything once it is back."""
from __future__ import annotations

import time

import pytest
from django.db import transaction

import events
from deliveries.models import Delivery
from tests.faults.conftest import SHORT, scaled, swept
from tests.support.ledger import account, delivery_log_problems, statuses
from tests.support.receiver import always, read_journal
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_events_emitted_during_a_broker_outage_are_all_delivered(
    broker, workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given: a worker with beat, and the web side (this process) publishing to the same private Redis
    event_type("invoice.paid")
    _, secret = make_webhook(journal_receiver.on("/r", always(200)), event_types=["invoice.*"])
    worker = workers(hookline=SHORT, beat=True)
    count, outage = scaled(300, 1000), scaled(10, 20)
    before, during = count // 5, count * 3 // 5
    emitted, durations = {}, []

    def emit(n: int) -> None:
        started = time.monotonic()
        with transaction.atomic():  # one web request: emit, then commit (the enqueue runs on commit)
            emitted[n] = events.emit("invoice.paid", {"n": n}, organisation=organisation).id
        durations.append(time.monotonic() - started)

    # when: a fifth is emitted (and delivered) before the outage, three fifths during it, the rest after
    started = time.monotonic()
    for n in range(before):
        emit(n)
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == before, timeout=60, message="before")
    broker.stop()
    down_at = time.monotonic()
    for n in range(before, before + during):
        emit(n)
        time.sleep(max(0.0, down_at + outage * (n - before + 1) / during - time.monotonic()))
    broker.start()
    up_at = time.monotonic()
    for n in range(before + during, count):
        emit(n)

    # then: every emit returned, and every event is delivered, with no manual step
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == count,
               timeout=scaled(90, 180), interval=0.2, message="every event delivered")
    drained = time.monotonic()
    tally = account(read_journal(journal_receiver.journal_path), emitted, {"/r": secret})
    figures.update(events=count, emitted_during_outage=during, outage_seconds=round(up_at - down_at, 1),
                   emit_max_ms=round(max(durations) * 1000, 1),
                   emit_p99_ms=round(sorted(durations)[int(len(durations) * 0.99)] * 1000, 1),
                   drain_seconds=round(drained - started, 1), drain_after_broker_back_seconds=round(drained - up_at, 1),
                   **tally.figures(), **swept(worker))
    assert len(emitted) == count
    assert max(durations) < 2, "an emit waited for the broker"  # kombu's connect retries took 6 s each
    assert tally.lost == 0, tally.missing
    assert not tally.mixed_ids and not tally.foreign and not tally.bad_signatures
    assert statuses() == {"succeeded": count}
    assert delivery_log_problems() == []
