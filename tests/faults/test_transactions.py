"""Scenario 5: what a transaction commits is sent, what it rolls back is not, and a crash after commit is healed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from django.db import transaction

import events
from deliveries.models import Delivery
from events.models import Event
from tests.faults.conftest import SHORT, scaled, swept
from tests.support.ledger import account, delivery_log_problems
from tests.support.receiver import always, read_journal
from tests.support.waiting import wait_until
from tests.support.workers import ROOT, database_url

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


class Abort(Exception):
    pass


def test_rolled_back_and_nested_transactions_send_exactly_what_committed(
    workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given
    event_type("invoice.paid")
    _, secret = make_webhook(journal_receiver.on("/r", always(200)), event_types=["invoice.*"])
    worker = workers(hookline=SHORT, beat=True)

    def emit(n: int, **kwargs) -> Event:
        return events.emit("invoice.paid", {"n": n}, organisation=organisation, **kwargs)

    committed = {}

    # when: a rolled-back transaction
    with pytest.raises(Abort), transaction.atomic():
        [emit(n) for n in range(0, 5)]
        events.emit_many([("invoice.paid", {"n": n}, organisation) for n in range(5, 10)])
        raise Abort
    # ... an outer transaction that commits around a savepoint rolled back and one released
    with transaction.atomic():
        committed[10] = emit(10).id
        with pytest.raises(Abort), transaction.atomic():
            emit(11)
            raise Abort
        with transaction.atomic():
            committed.update(
                {
                    e.payload["n"]: e.id
                    for e in events.emit_many(
                        [("invoice.paid", {"n": 12}, organisation), ("invoice.paid", {"n": 13}, organisation)]
                    )
                }
            )
        first = emit(14, idempotency_key="order-14")
        assert emit(14, idempotency_key="order-14").id == first.id  # a repeat returns the first
        committed[14] = first.id
    # ... an outer transaction that rolls back a released savepoint
    with pytest.raises(Abort), transaction.atomic():
        with transaction.atomic():
            emit(15)
        raise Abort
    with transaction.atomic():
        committed[16] = emit(16).id  # the marker: when it is in, the rest had every chance

    # then: exactly the committed events arrive, once each, even after the sweeper had its turns
    wait_until(
        lambda: Delivery.objects.filter(status="succeeded").count() == len(committed),
        timeout=60,
        message="the committed events",
    )
    time.sleep(SHORT["SWEEP_AFTER"] + 2 * SHORT["SWEEP_INTERVAL"])
    tally = account(read_journal(journal_receiver.journal_path), committed, {"/r": secret})
    figures.update(committed=sorted(committed), rolled_back=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 15], **tally.figures())
    assert set(Event.objects.values_list("id", flat=True)) == set(committed.values())
    assert (tally.lost, tally.duplicates, tally.foreign) == (0, 0, 0)
    assert {r.json["data"]["n"] for r in journal_receiver.requests} == set(committed)
    assert swept(worker, periodic=False)["swept_events"] == 0


CRASH_AFTER_COMMIT = textwrap.dedent("""
    import os, signal, sys
    import django
    django.setup()
    from django.db import transaction
    import events
    from events.models import Organisation

    organisation = Organisation.objects.get(slug=sys.argv[1])
    with transaction.atomic():
        # Registered before emit's own on-commit hook, so it runs first: the process dies between
        # the COMMIT and the enqueue, the way a web server's worker is killed at the worst moment.
        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        events.emit_many([("invoice.paid", {"n": n}, organisation) for n in range(int(sys.argv[2]))])
""")


def test_a_crash_between_commit_and_enqueue_is_healed_by_the_periodic_checks(
    broker, workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given
    event_type("invoice.paid")
    _, secret = make_webhook(journal_receiver.on("/r", always(200)), event_types=["invoice.*"])
    count = scaled(100, 500)

    # when: a web process commits its events and is killed before it can enqueue their fan-out
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker.url,
        "PYTHONPATH": str(ROOT),
    }
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_COMMIT, organisation.slug, str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == -9, crashed.stderr.decode()[-2000:]
    stranded = Event.objects.undispatched().count()
    started = time.monotonic()
    worker = workers(hookline=SHORT, beat=True)

    # then: the sweeper or a worker's periodic check fans them out, and every one is delivered once
    wait_until(
        lambda: Delivery.objects.filter(status="succeeded").count() == count, timeout=90, message="the stranded events"
    )
    emitted = {e.payload["n"]: e.id for e in Event.objects.all()}
    tally = account(read_journal(journal_receiver.journal_path), emitted, {"/r": secret})
    figures.update(
        events=count,
        stranded_after_crash=stranded,
        **tally.figures(),
        **swept(worker),
        heal_seconds_after_worker_start=round(time.monotonic() - started, 1),
    )
    assert stranded == count
    assert (tally.lost, tally.duplicates) == (0, 0)
    # healed by a safety net (the crashed process published nothing); a run it started may hand on
    # part of the batch to an ordinary wake-up, so its log lines need not add up to the whole count
    assert swept(worker)["swept_events"] >= 1
    assert delivery_log_problems() == []


def test_a_transaction_committing_after_sweep_after_is_fanned_out_once(
    workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given: two beats sweeping often, so the sweeper sees the events as stale the moment they commit
    event_type("invoice.paid")
    _, secret = make_webhook(journal_receiver.on("/r", always(200)), event_types=["invoice.*"])
    hookline = {**SHORT, "SWEEP_AFTER": 0.5, "SWEEP_INTERVAL": 0.25}
    running = [workers(hookline=hookline, beat=True, ready=False) for _ in range(2)]
    for worker in running:
        worker.wait_ready()
    count = scaled(50, 200)

    # when: a long transaction emits, waits past SWEEP_AFTER, then commits (its on-commit enqueue races the sweepers)
    with transaction.atomic():
        made = events.emit_many([("invoice.paid", {"n": n}, organisation) for n in range(count)])
        time.sleep(2)

    # then: once each
    wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == count, timeout=60, message="delivered")
    time.sleep(1)
    tally = account(read_journal(journal_receiver.journal_path), {e.payload["n"]: e.id for e in made}, {"/r": secret})
    figures.update(events=count, **tally.figures(), **swept(*running))
    assert (tally.lost, tally.duplicates) == (0, 0)
    assert Delivery.objects.count() == count
