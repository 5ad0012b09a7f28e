"""Shared fixtures: tenants, endpoints, catalog entries, loopback receivers and real Celery workers."""

from __future__ import annotations

import importlib
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
from tests.support.workers import SharedWorker, WorkerProcess

pytest_plugins = ["tests.support.api"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _fresh_catalog_and_outbox():
    # The catalog cache and the broker back-off are per process; tests roll the database back.
    catalog.invalidate()
    outbox._broker_down_until = 0.0
    yield
    catalog.invalidate()
    outbox._broker_down_until = 0.0


@pytest.fixture(autouse=True)
def _inline_senders():
    """Runs in the test process send and record on their own thread: the test's transaction is not
    visible to other threads. Real workers (integration tests) use the sender pool."""
    from deliveries import delivering, senders

    senders.install(senders.Senders(100, delivering.record_done, inline=True))
    yield
    senders.install(None)


def _missing_services() -> list[str]:
    missing = []
    if connection.vendor != "postgresql":
        missing.append(
            "PostgreSQL (run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/hookline, as `make test` does)"
        )
    broker = urlparse(settings.CELERY_BROKER_URL)
    default_port = {"redis": 6379, "amqp": 5672, "pyamqp": 5672}.get(broker.scheme)
    if default_port is None:
        missing.append(
            "Redis or RabbitMQ (CELERY_BROKER_URL=redis://127.0.0.1:6379/15, as `make test` does,"
            " or amqp://guest:guest@127.0.0.1:5672/<vhost>)"
        )
    else:
        try:
            socket.create_connection((broker.hostname, broker.port or default_port), timeout=2).close()
        except OSError as exc:
            missing.append(f"{broker.scheme} broker at {broker.hostname}:{broker.port or default_port} ({exc})")
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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Fixtures can then tell whether their test failed (item.report_call), e.g. to keep a screenshot.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# The files whose tests take longest (minutes beside the rest of `make test`), longest first. Under pytest-xdist
# (make test's stage 4, --dist loadfile --no-loadscope-reorder) they are handed out first, so that no process
# starts one of them when the others are nearly done: the stage lasts as long as its busiest process.
LONGEST_FILES = [
    "tests/integration/test_control_integration.py",  # 1,000 FIFO sends one at a time, 30 s of rate limit
    "tests/integration/test_timing_promises.py",  # four rate limits measured over 30 s
    "tests/embedding/test_embedding.py",  # a wheel built and installed, a foreign site set up twice
    "tests/console/test_api_fuzz.py",
    "tests/faults/test_worker_killed.py",
    "tests/faults/test_concurrency.py",
    "tests/faults/test_transactions.py",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("integration") or item.get_closest_marker("faults"):
            item.fixturenames.insert(0, "real_services")
    # The tests that share the default worker run one after another, so it starts once (a stable sort).
    items.sort(key=lambda item: "worker" not in getattr(item, "fixturenames", ()))
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a file's tests stay together on one process (--dist loadfile)
        rank = {path: index for index, path in enumerate(LONGEST_FILES)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


_SHARED_WORKER = SharedWorker()


@pytest.fixture(autouse=True)
def _shared_worker_only_for_those_who_ask(request):
    """A test that does not ask for ``worker`` never runs beside the shared one (it may start its own)."""
    if "worker" not in request.fixturenames:
        _SHARED_WORKER.end()


def pytest_sessionfinish(session):
    _SHARED_WORKER.end()


@pytest.fixture
def worker(real_services, tmp_path_factory) -> WorkerProcess:
    """A ready worker with the default test settings, started once for the tests that ask for it in a row.

    For a test that needs a fresh worker, or other settings, use ``start_worker``.
    """
    from webhooks_project.celery import app

    app.control.purge()  # wake-ups left by the previous test; its rows are gone with its transaction
    return _SHARED_WORKER.get(tmp_path_factory.getbasetemp())


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
        worker.end()


@pytest.fixture(scope="session", autouse=True)
def _delete_rabbitmq_test_queue():
    """RabbitMQ keeps a quorum queue after its consumers leave: remove this run's own queue at the end."""
    yield
    if urlparse(settings.CELERY_BROKER_URL).scheme in {"amqp", "pyamqp"}:
        from tests.support.broker import delete_queue

        delete_queue(settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_organisation(db):
    return Organisation.objects.create(name="Globex", slug="globex")


@pytest.fixture
def operator(organisation):
    """A non-superuser staff member of ``organisation`` with every Hookline permission (password "op-password")."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("operator", password="op-password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["hooks", "deliveries", "events"]))
    organisation.members.add(user)
    return user


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


PROVISIONING_APP = "tests.example_provisioning"


@pytest.fixture
def provisioning_events(event_type):
    """The README's payload-version example (user.provisioning with a v1 transformer), registered and in the catalog.

    A worker needs it too: ``start_worker(extra_env={"TEST_EXTRA_APPS": PROVISIONING_APP})``.
    """
    module = importlib.import_module(f"{PROVISIONING_APP}.hookline_events")
    if module.USER_PROVISIONING not in catalog.declared():  # an earlier test cleaned it up
        importlib.reload(module)
    event_type(module.USER_PROVISIONING, schema=catalog.declared()[module.USER_PROVISIONING].schema)
    yield module
    catalog.unregister(module.USER_PROVISIONING)
