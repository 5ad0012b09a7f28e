"""The benchmark's world: settings, its own database and queue, fixtures, and process/database probes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hookline_bench")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
QUEUE = os.environ.get("BENCH_QUEUE", "hookline-bench")
EVENT_TYPE = "bench.ping"
ORDER_TYPE = "order.created"  # the single-emit scenarios: one per domain transaction
TABLES = ["deliveries_attempt", "deliveries_delivery", "events_event"]


def configure() -> None:
    """Environment for this process and the workers it starts; then django.setup()."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "webhooks_project.settings",
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            "HOOKLINE_ALLOW_PRIVATE_ADDRESSES": "true",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    os.environ.setdefault("SECRET_KEY", "hookline-bench-not-secret")
    _create_database()
    import django

    django.setup()


def _create_database() -> None:
    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    exists = subprocess.run(
        ["psql", *args, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", *args, name], check=True)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def reset_data() -> None:
    """Empty the tables the benchmark writes (its own database only), and purge its queue."""
    from django.db import connection

    from webhooks_project.celery import app

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE deliveries_attempt, deliveries_delivery, events_event, hooks_webhook CASCADE")
    app.control.purge()


def organisation():
    from events import catalog
    from events.models import EventType, Organisation

    for key in (EVENT_TYPE, ORDER_TYPE):
        EventType.objects.update_or_create(key=key, defaults={"description": "benchmark traffic"})
    catalog.invalidate()
    return Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})[0]


def create_endpoints(org, urls: list[str], *, condition: dict | None = None) -> list[int]:
    """Endpoints with their own secrets, written in bulk (the real create path validates one by one)."""
    from hooks import signing
    from hooks.models import Webhook

    webhooks = []
    for url in urls:
        webhook = Webhook(
            organisation=org,
            name=url,
            url=url,
            event_types=[EVENT_TYPE, ORDER_TYPE],
            state=Webhook.State.VALID,
            condition=condition,
        )
        webhook.secret = signing.generate_secret()
        webhooks.append(webhook)
    return [webhook.id for webhook in Webhook.objects.bulk_create(webhooks, batch_size=2000)]


def table_stats() -> dict[str, int]:
    """Rows inserted and updated, and bytes on disk (heap, indexes, TOAST), of the hot tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0),"
            " coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [TABLES],
        )
        inserted, updated, size = cursor.fetchone()
    return {"inserted": int(inserted), "updated": int(updated), "bytes": int(size)}


def settled_table_stats(timeout: float = 15.0) -> dict[str, int]:
    """table_stats() once the workers' backends have flushed their counters (they may lag up to 10 s)."""
    deadline = time.monotonic() + timeout
    last = table_stats()
    while time.monotonic() < deadline:
        time.sleep(1.5)
        current = table_stats()
        if current == last:
            return current
        last = current
    return last


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a prefork worker's pool children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def memory_kib(pid: int) -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident memory of one process, in KiB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    except OSError:
        pass
    return values


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def sessions_opened() -> int:
    """Connections ever opened to the benchmark's database: persistent ones keep this flat."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def database_backends() -> list[int]:
    """PIDs of the PostgreSQL backends connected to the benchmark's database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
