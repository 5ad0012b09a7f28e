"""Measure retention pruning of ~1,000,000 attempts while deliveries keep flowing (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> python scripts/prune_bench.py \\
        [--deliveries 230000] [--baseline 20] [--batch 1000]

1. Fills a scratch database once with SQL (``generate_series``): deliveries created 8–40 days ago,
   93 % succeeded, 6 % failed, 1 % still pending, 4.6 attempts each (~1.5 kB per attempt), so that
   about a million attempts are past the default retention (succeeded 7 days, failed 30 days).
2. Runs the delivery write path (delivering.claim + delivering.record: the INSERT of attempts and the
   UPDATE of deliveries of a real batch, without the HTTP part) in a loop of 50-delivery batches,
   first alone for --baseline seconds, then while `manage.py prune` runs (its own process, as the
   beat task runs in a worker), then alone again.
3. Samples pg_stat_activity every 50 ms for sessions waiting on a lock, and prints throughput and
   record() latency per phase, the pruner's batches, and lock waits. Use a scratch database.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from deliveries import delivering, transport  # noqa: E402
from deliveries.models import Attempt, Delivery  # noqa: E402
from events.models import Event  # noqa: E402
from hooks import services  # noqa: E402
from hooks.models import Webhook  # noqa: E402

FLOW_BATCH = 50


def fill(total: int) -> None:
    """(Re)fill the log when an earlier run pruned it."""
    if Attempt.objects.count() >= total * 4:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Attempt._meta.db_table}, {Delivery._meta.db_table}, {Event._meta.db_table} CASCADE")
    webhooks = list(Webhook.objects.order_by("id")[:20]) or [
        services.create_webhook(url=f"http://127.0.0.1:9/{n}", name=f"bench {n}")[0] for n in range(20)
    ]
    first = min(webhook.id for webhook in webhooks)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {Event._meta.db_table} (id, type, payload, created_at, dispatched_at)
            SELECT 'msg_bench' || lpad(g::text, 10, '0'), 'invoice.paid', '{{"invoice": 1}}'::jsonb,
                   now() - interval '8 days' - (g % 2764800) * interval '1 second',
                   now() - interval '8 days' - (g % 2764800) * interval '1 second'
            FROM generate_series(1, {int(total)}) g""")
        cursor.execute(f"""
            INSERT INTO {Delivery._meta.db_table} (event_id, webhook_id, status, attempts, total_attempts,
                next_attempt_at, claim_token, last_status_code, last_error, created_at, completed_at)
            SELECT e.id, {first} + (row_number() OVER () % 20),
                   CASE WHEN random() < 0.93 THEN 'succeeded' WHEN random() < 0.86 THEN 'failed' ELSE 'pending' END,
                   4, 4, NULL, '', 200, '', e.created_at, e.created_at + interval '3 hours'
            FROM {Event._meta.db_table} e""")
        cursor.execute(f"""UPDATE {Delivery._meta.db_table} SET completed_at = NULL,
            next_attempt_at = now() + interval '1 day' WHERE status = 'pending'""")
        cursor.execute(f"""
            INSERT INTO {Attempt._meta.db_table} (delivery_id, number, created_at, request_url, request_headers,
                request_body, response_status, response_headers, response_body, response_truncated, duration_ms,
                error, error_detail, succeeded)
            SELECT d.id, n, d.created_at + n * interval '1 minute', 'http://127.0.0.1:9/in',
                   '{{"content-type":"application/json","webhook-id":"msg_x","webhook-signature":"v1,abc"}}'::jsonb,
                   repeat('x', 800), 503, '{{"content-type": "text/plain"}}'::jsonb, repeat('y', 500), false, 40,
                   '', '', false
            FROM {Delivery._meta.db_table} d, generate_series(1, 4 + (d.id % 5 < 3)::int) n""")
        cursor.execute("ANALYZE")
    print(
        f"filled {total} deliveries, {Attempt.objects.count()} attempts in {time.monotonic() - started:.0f} s",
        flush=True,
    )


class Flow(threading.Thread):
    """The delivery write path in a loop: new pending deliveries, claim them, record a 200 for each."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, int]] = []  # (time, record() seconds, deliveries)
        self.stop = threading.Event()

    def run(self) -> None:
        webhook = Webhook.objects.order_by("id").first()
        try:
            while not self.stop.is_set():
                now = timezone.now()
                events = Event.objects.bulk_create(
                    [
                        Event(type="invoice.paid", payload={"n": 1}, created_at=now, dispatched_at=now)
                        for _ in range(FLOW_BATCH)
                    ]
                )
                created = Delivery.objects.bulk_create(
                    [Delivery(event=event, webhook=webhook, created_at=now, next_attempt_at=now) for event in events]
                )
                claimed = delivering.claim_due(timezone.now(), len(created), only=[delivery.id for delivery in created])
                sent = [
                    delivering.Sent(
                        delivery,
                        transport.OutgoingRequest(webhook.url, {"content-type": "application/json"}, b'{"n": 1}'),
                        transport.TransportResult(status=200, body='{"ok": true}', duration_ms=5),
                    )
                    for delivery in claimed
                ]
                started = time.perf_counter()
                delivering.record(sent)
                self.samples.append((time.monotonic(), time.perf_counter() - started, len(claimed)))
        finally:
            connections.close_all()


class LockWatch(threading.Thread):
    """Samples pg_stat_activity: how many sessions wait on a lock, every 50 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                    self.samples.append((time.monotonic(), cursor.fetchone()[0]))
                    time.sleep(0.05)
        finally:
            connections.close_all()


def phase(flow: Flow, locks: LockWatch, start: float, end: float, name: str) -> None:
    batches = [(seconds, n) for at, seconds, n in flow.samples if start <= at < end]
    waits = [n for at, n in locks.samples if start <= at < end]
    if not batches:
        print(f"{name:18} no batches")
        return
    latencies = sorted(seconds * 1000 for seconds, _ in batches)
    rate = sum(n for _, n in batches) / (end - start)
    p99 = latencies[min(int(len(latencies) * 0.99), len(latencies) - 1)]
    waiting = sum(1 for n in waits if n) / max(len(waits), 1)
    print(
        f"{name:18} {end - start:6.1f} s {rate:8.0f} deliveries/s   record() p50 {statistics.median(latencies):6.1f} ms"
        f"  p99 {p99:6.1f} ms  max {latencies[-1]:6.1f} ms   lock waiters seen in {waiting:5.1%} of samples"
        f" (max {max(waits, default=0)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=230_000)
    parser.add_argument("--baseline", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only (set DATABASE_URL to a scratch PostgreSQL database)")
    call_command("migrate", verbosity=0)
    fill(args.deliveries)
    pending_before = Delivery.objects.filter(status="pending").count()
    attempts_before = Attempt.objects.count()
    flow, locks = Flow(), LockWatch()
    flow.start()
    locks.start()
    t0 = time.monotonic()
    time.sleep(args.baseline)
    t1 = time.monotonic()
    # In its own process, as the beat task runs in a worker: the flow keeps this process's GIL.
    command = [sys.executable, "manage.py", "prune", "--pause", str(args.pause)]
    if args.batch:
        command += ["--batch", str(args.batch)]
    report = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    t2 = time.monotonic()
    time.sleep(args.baseline)
    t3 = time.monotonic()
    flow.stop.set()
    locks.stop.set()
    flow.join()
    locks.join()
    pruned = int(re.search(r"(\d+) attempts", report).group(1))
    print(f"manage.py prune (batch {args.batch or 'PRUNE_BATCH'}, pause {args.pause} s) took {t2 - t1:.1f} s: {report}")
    print(f"attempts before {attempts_before}; {pruned / (t2 - t1):,.0f} attempts deleted per second")
    print(
        f"pending deliveries before {pending_before}, after "
        f"{Delivery.objects.filter(status='pending', created_at__lt=timezone.now() - timedelta(days=1)).count()}"
    )
    phase(flow, locks, t0, t1, "before pruning")
    phase(flow, locks, t1, t2, "while pruning")
    phase(flow, locks, t2, t3, "after pruning")


if __name__ == "__main__":
    main()
