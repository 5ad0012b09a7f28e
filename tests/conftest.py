"""Shared fixtures: tenants, endpoints, catalog entries, loopback receivers and real Celery workers."""
from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from events import catalog, outbox
from events.models import EventType, Organisation
from hooks import services
from tests.support.receiver import Receiver
from tests.support.workers import WorkerProcess

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _fresh_catalog_and_outbox():
    # The catalog cache and the broker back-off are per process; tests roll the database back.
    catalog.invalidate()
    outbox._broker_down_until = 0.0
    yield
    catalog.invalidate()
    outbox._broker_down_until = 0.0


def _missing_services() -> list[str]:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/hookline, as `make test` does)")
    broker = urlparse(settings.CELERY_BROKER_URL)
    if broker.scheme != "redis":
        missing.append("Redis (CELERY_BROKER_URL=redis://127.0.0.1:6379/15, as `make test` does)")
    else:
        try:
            socket.create_connection((broker.hostname, broker.port or 6379), timeout=2).close()
        except OSError as exc:
            missing.append(f"Redis at {broker.hostname}:{broker.port or 6379} ({exc})")
    return missing


@pytest.fixture
def real_services(transactional_db):
    """Integration tests need the real services; they skip without them, except in CI, where they fail."""
    missing = _missing_services()
    if missing:
        message = "needs " + "; ".join(missing)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("integration") or item.get_closest_marker("faults"):
            item.fixturenames.insert(0, "real_services")


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def start_worker(real_services, tmp_path):
    """``start_worker(hookline={"MAX_ATTEMPTS": 3}, beat=True)`` starts a ready worker; all end at teardown.

    ``ready=False`` returns at once (call ``wait_ready()`` later), to start several in parallel.
    """
    from webhooks_project.celery import app

    started: list[WorkerProcess] = []
    app.control.purge()

    def start(*, ready: bool = True, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(started)}.log", **kwargs)
        started.append(worker)
        return worker.wait_ready() if ready else worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_organisation(db):
    return Organisation.objects.create(name="Globex", slug="globex")


@pytest.fixture
def event_type(db):
    """``event_type("invoice.paid", schema={...})`` adds a catalog entry."""

    def create(key: str, **fields) -> EventType:
        entry, _ = EventType.objects.update_or_create(key=key, defaults=fields)
        catalog.invalidate()
        return entry

    return create


@pytest.fixture
def make_webhook(db, organisation):
    """``make_webhook(url, event_types=[...])`` creates an endpoint; returns (webhook, secret)."""

    def create(url: str, **kwargs):
        kwargs.setdefault("organisation", organisation)
        return services.create_webhook(url=url, **kwargs)

    return create
