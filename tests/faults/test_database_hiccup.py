"""Scenario 3: the worker's PostgreSQL connections are terminated during delivery; it recovers, nothing is lost."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from deliveries.models import Delivery
from tests.faults.conftest import SHORT, emit_numbered, scaled
from tests.support.ledger import account, delivery_log_problems, statuses
from tests.support.receiver import always, read_journal
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def terminate_other_connections() -> int:
    """pg_terminate_backend every other session of this (the test) database: the worker's and its beat's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.rowcount


def test_worker_recovers_from_terminated_database_connections(
    workers, journal_receiver, make_webhook, event_type, organisation, figures
):
    # given
    event_type("invoice.paid")
    secrets = {}
    for path in ("/a", "/b"):
        _, secrets[path] = make_webhook(journal_receiver.on(path, always(200, delay=0.02)), event_types=["invoice.*"])
    worker = workers(hookline={**SHORT, "SEND_CONCURRENCY": 4}, beat=True, concurrency=4)
    count = scaled(300, 2000)
    total = count * len(secrets)

    # when: the worker's connections are cut three times while it delivers
    started = time.monotonic()
    emitted = emit_numbered(range(count), organisation)
    cuts = []
    for fraction in (0.2, 0.5, 0.8):
        wait_until(
            lambda fraction=fraction: Delivery.objects.filter(status="succeeded").count() >= fraction * total,
            timeout=scaled(90, 240),
            interval=0.05,
            message=f"{fraction:.0%} delivered",
        )
        cuts.append(terminate_other_connections())
    last_cut = time.monotonic()

    # then: the worker is still up, everything is delivered, and no delivery is marked twice
    wait_until(
        lambda: Delivery.objects.filter(status="succeeded").count() == total,
        timeout=scaled(90, 240),
        interval=0.2,
        message="every delivery succeeded",
    )
    drained = time.monotonic()
    assert worker.process.poll() is None
    tally = account(read_journal(journal_receiver.journal_path), emitted, secrets)
    figures.update(
        events=count,
        deliveries=total,
        connections_terminated=cuts,
        **tally.figures(),
        drain_seconds=round(drained - started, 1),
        heal_after_last_cut_seconds=round(drained - last_cut, 1),
        task_retries=worker.log().count("Retry in"),
    )
    assert all(cuts), "a cut found no connection to terminate"
    assert tally.lost == 0, tally.missing
    assert not tally.mixed_ids and not tally.foreign and not tally.bad_signatures
    assert statuses() == {"succeeded": total}
    assert delivery_log_problems() == []
