"""Scenario 6: two beats, three workers and extra sweepers at once; the sweeper never sends twice or holds up a
worker."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from deliveries import fanout, sweeper, tasks
from deliveries.models import Delivery
from events import outbox
from events.models import Event
from tests.faults.conftest import SHORT, emit_numbered, scaled, swept
from tests.support.ledger import account, delivery_log_problems, statuses
from tests.support.receiver import always, read_journal
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# Sessions waiting for a row lock in this database, with the statement of the session holding it.
LOCK_WAITS = """
    SELECT waiting.query, blocking.query, extract(epoch FROM now() - waiting.query_start)
    FROM pg_stat_activity waiting
    CROSS JOIN LATERAL unnest(pg_blocking_pids(waiting.pid)) AS holder(pid)
    JOIN pg_stat_activity blocking ON blocking.pid = holder.pid
    WHERE waiting.datname = current_database() AND waiting.wait_event_type = 'Lock'
"""


def role(query: str) -> str:
    if "SKIP LOCKED" in query or 'SET "next_attempt_at"' in query:
        return "sweeper"
    if '"claim_token" =' in query and "UPDATE" in query:
        return "claim"
    if query.startswith("UPDATE") or query.startswith("INSERT"):
        return "record"
    return "other"


class Background(threading.Thread):
    """Runs ``step`` every ``every`` seconds on its own database connection until stopped."""

    def __init__(self, step, every: float) -> None:
        super().__init__(daemon=True)
        self.step, self.every, self.runs, self.halt, self.error = step, every, 0, threading.Event(), None

    def run(self) -> None:
        try:
            while not self.halt.wait(self.every):
                self.step()
                self.runs += 1
        except Exception as exc:  # reported by the test, not swallowed
            self.error = exc
        finally:
            connection.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)
        assert self.error is None, self.error


def strand(emitted: dict[int, str]) -> None:
    """Half the events lose their fan-out message, the other half their deliveries' messages; all overdue."""
    ids = list(emitted.values())
    fanout.fan_out(ids[: len(ids) // 2])  # deliveries created, never enqueued
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Event.objects.update(created_at=an_hour_ago)
    Delivery.objects.update(created_at=an_hour_ago, next_attempt_at=an_hour_ago)


def test_two_beats_and_three_workers_never_send_twice(
    workers, journal_receiver, make_webhook, event_type, organisation, monkeypatch, settings, figures
):
    # given: stranded work (as after lost messages), so every sweeper finds plenty to hand out at once
    event_type("invoice.paid")
    secrets = {}
    for path in ("/a", "/b"):
        _, secrets[path] = make_webhook(journal_receiver.on(path, always(200, delay=0.05)), event_types=["invoice.*"])
    count = scaled(300, 2000)
    monkeypatch.setattr(outbox, "_dispatcher", None)  # nothing is enqueued on commit
    emitted = emit_numbered(range(count), organisation)
    strand(emitted)
    # No worker is lost here, and no lease ends: any second request would be the sweeper's doing.
    # Few sender threads, small batches (more tasks than the workers' slots, so most wait unclaimed
    # in the queue) and a slowish receiver keep a backlog longer than SWEEP_AFTER, so the sweepers
    # keep handing out work that is still queued.
    hookline = {
        **SHORT,
        "SWEEP_INTERVAL": 0.5,
        "SWEEP_AFTER": 1,
        "CLAIM_LEASE": 120,
        "SEND_CONCURRENCY": 4,
        "DELIVERY_BATCH_SIZE": 10,
    }
    lock_waits = []

    def sample_locks():
        with connection.cursor() as cursor:
            cursor.execute(LOCK_WAITS)
            lock_waits.extend((waiting, holding, float(seconds)) for waiting, holding, seconds in cursor.fetchall())

    # when: two workers with beat and one without start together, and this process sweeps from two threads too
    started = time.monotonic()
    running = [workers(hookline=hookline, beat=index < 2, concurrency=4, ready=False) for index in range(3)]
    for worker in running:
        worker.wait_ready()
    settings.HOOKLINE = {
        **settings.HOOKLINE,
        "SWEEP_AFTER": hookline["SWEEP_AFTER"],
        "DELIVERY_BATCH_SIZE": hookline["DELIVERY_BATCH_SIZE"],
    }
    handed_out = []
    helpers = [Background(lambda: handed_out.append(tasks.sweep_task()), every=0.2) for _ in range(2)]
    helpers.append(Background(sample_locks, every=0.02))
    for helper in helpers:
        helper.start()
    try:
        wait_until(
            lambda: Delivery.objects.filter(status="succeeded").count() == 2 * count,
            timeout=scaled(120, 300),
            interval=0.2,
            message="every delivery succeeded",
        )
        drained = time.monotonic()
        time.sleep(2)  # a few more sweeps over the finished work
    finally:
        for helper in helpers:
            helper.stop()

    # then: each pair exactly once, and no worker statement waited on a sweeper for long
    tally = account(read_journal(journal_receiver.journal_path), emitted, secrets)
    waits, examples = defaultdict(float), {}
    for waiting, holding, seconds in lock_waits:
        kind = f"{role(waiting)} waited on {role(holding)}"
        if seconds >= waits[kind]:
            waits[kind], examples[kind] = round(seconds, 3), [waiting[:120], holding[:120]]
    healed = swept(*running)
    figures.update(
        events=count,
        deliveries=2 * count,
        **tally.figures(),
        drain_seconds=round(drained - started, 1),
        sweeps_in_workers=sum(w.log().count("Task hookline.sweep[") for w in running) // 2,
        sweeps_in_test_process=len(handed_out),
        handed_out_by_workers=healed["swept_deliveries"],
        handed_out_by_test_process=sum(handed_out),
        lock_samples=helpers[2].runs,
        lock_waits_seen=len(lock_waits),
        longest_lock_waits=dict(waits),
        longest_lock_wait_statements=examples,
    )
    assert tally.lost == 0, tally.missing
    assert tally.duplicates == 0
    assert statuses() == {"succeeded": 2 * count}
    assert delivery_log_problems() == []
    assert healed["swept_deliveries"] + sum(handed_out) > 2 * count, "the sweepers should have competed for work"
    assert all(seconds < 1 for waiting, holding, seconds in lock_waits if role(holding) == "sweeper")


# Seconds the slow sweeper holds its locks at most (it lets go as soon as the first sweep has returned).
HOLD = 30.0


def test_a_sweeper_skips_rows_another_sweeper_holds_instead_of_waiting(
    journal_receiver, make_webhook, event_type, organisation, monkeypatch, figures
):
    # given: stranded, overdue deliveries, and a slow sweeper holding the locks on half of them
    event_type("invoice.paid")
    make_webhook(journal_receiver.on("/a", always(200)), event_types=["invoice.*"])
    monkeypatch.setattr(outbox, "_dispatcher", None)
    emitted = emit_numbered(range(40), organisation)
    fanout.fan_out(list(emitted.values()))
    strand({})
    ids = sorted(Delivery.objects.values_list("id", flat=True))
    held, rest = ids[:20], ids[20:]
    locked, release, letting_go = threading.Event(), threading.Event(), threading.Event()

    def slow_sweeper():
        try:
            with transaction.atomic():
                list(Delivery.objects.filter(id__in=held).select_for_update())
                locked.set()
                release.wait(HOLD)
                letting_go.set()  # still inside the transaction: its locks go only after this
        finally:
            connection.close()

    holder = threading.Thread(target=slow_sweeper, daemon=True)
    holder.start()
    assert locked.wait(10)

    # when: another sweeper runs meanwhile
    started = time.monotonic()
    first = sweeper.sweep()
    waited = time.monotonic() - started
    returned_while_held = not letting_go.is_set()
    release.set()
    holder.join(10)
    second = sweeper.sweep()

    # then: it took the free half while the other sweeper still held its half (a sweep that waited for those
    # locks could only have returned after letting_go, HOLD seconds on: however slow a loaded machine makes
    # the sweep itself, the proof is the order, not its speed); the held half comes with the next sweep,
    # nothing twice
    figures.update(
        deliveries=len(ids),
        first_sweep_seconds=round(waited, 3),
        first_sweep=len(first.deliveries_enqueued),
        second_sweep=len(second.deliveries_enqueued),
    )
    assert returned_while_held, f"the first sweep took {waited:.1f} s: it waited for the held rows"
    assert sorted(first.deliveries_enqueued) == rest
    assert sorted(second.deliveries_enqueued) == held


def test_a_claim_never_runs_out_while_its_batch_is_still_being_sent(
    workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given: a tarpit receiver (every answer dribbles until the total timeout, then counts as a 200),
    # and batches that take far longer to send than the claim lease lasts
    event_type("invoice.paid")
    _, secret = make_webhook(
        journal_receiver.on("/tarpit", always(200, body=b"x" * 1000, drip=0.5)), event_types=["invoice.*"]
    )
    hookline = {
        **SHORT,
        "READ_TIMEOUT": 1,
        "TOTAL_TIMEOUT": 2,
        "CLAIM_LEASE": 5,
        "SEND_CONCURRENCY": 4,
        "SWEEP_AFTER": 1,
        "SWEEP_INTERVAL": 0.5,
    }
    running = [workers(hookline=hookline, beat=index == 0, concurrency=2, ready=False) for index in range(2)]
    for worker in running:
        worker.wait_ready()
    count = scaled(40, 120)

    # when: each batch of 20 needs 10 s of sending on 4 sender threads; its lease ends after 5 s
    started = time.monotonic()
    emitted = emit_numbered(range(count), organisation)
    wait_until(
        lambda: Delivery.objects.filter(status="succeeded").count() == count,
        timeout=scaled(120, 240),
        interval=0.25,
        message="every delivery succeeded",
    )

    # then: nobody else was handed a delivery while its request was still going: each was sent once
    tally = account(read_journal(journal_receiver.journal_path), emitted, {"/tarpit": secret})
    figures.update(
        events=count, **tally.figures(), drain_seconds=round(time.monotonic() - started, 1), **swept(*running)
    )
    assert tally.lost == 0
    assert tally.duplicates == 0
    assert delivery_log_problems() == []
