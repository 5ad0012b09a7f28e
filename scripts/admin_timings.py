"""Time the admin's list and inspector pages on a big delivery log (default 100,000 deliveries).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
        python scripts/admin_timings.py [--deliveries 100000] [--days 60] [--explain]

It migrates the database, fills it once (events, deliveries and one attempt each, spread over
50 endpoints of 5 organisations and --days days: 7 puts a seventh of the log in the dashboard's
24 hours), then requests each page a few times in-process as a
superuser and as an operator of one organisation, printing the median time and the query count.
Use a scratch database: the data stays for the next run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.contrib.auth.models import Permission, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from deliveries.models import Attempt, Delivery  # noqa: E402
from events.ids import new_event_id  # noqa: E402
from events.models import Event, EventType, Organisation  # noqa: E402
from hooks import services  # noqa: E402
from hooks.models import Webhook  # noqa: E402

TYPES = ["invoice.paid", "invoice.created", "user.created", "user.deleted", "rare.event"]
STATUSES = ["succeeded"] * 90 + ["failed"] * 6 + ["pending"] * 3 + ["cancelled"]


def fill(total: int, days: int = 60) -> None:
    if Delivery.objects.count() >= total:
        return
    random.seed(7)
    for key in TYPES:
        EventType.objects.get_or_create(key=key)
    organisations = [
        Organisation.objects.get_or_create(slug=f"org{n}", defaults={"name": f"Org {n}"})[0] for n in range(5)
    ]
    webhooks = list(Webhook.objects.all()) or [
        services.create_webhook(url=f"http://127.0.0.1:9/{n}", name=f"endpoint {n}", organisation=organisations[n % 5])[
            0
        ]
        for n in range(50)
    ]
    now, batch = timezone.now(), 5000
    for start in range(0, total, batch):
        events, deliveries, attempts = [], [], []
        for _ in range(min(batch, total - start)):
            webhook = random.choice(webhooks)
            created = now - timedelta(seconds=random.randint(0, days * 86400))
            key = "rare.event" if random.random() < 0.001 else random.choice(TYPES[:4])
            event = Event(
                id=new_event_id(),
                type=key,
                payload={"invoice": start, "lines": list(range(20))},
                organisation=webhook.organisation,
                created_at=created,
                dispatched_at=created,
            )
            status = random.choice(STATUSES)
            events.append(event)
            deliveries.append(
                Delivery(
                    event=event,
                    webhook=webhook,
                    status=status,
                    attempts=1,
                    total_attempts=1,
                    last_status_code=200 if status == "succeeded" else 500,
                    created_at=created,
                    completed_at=None if status == "pending" else created + timedelta(seconds=0.2),
                    next_attempt_at=created + timedelta(minutes=10) if status == "pending" else None,
                )
            )
        Event.objects.bulk_create(events)
        Delivery.objects.bulk_create(deliveries)
        for delivery in deliveries:
            attempts.append(
                Attempt(
                    delivery=delivery,
                    number=1,
                    created_at=delivery.created_at,
                    request_url="http://x/",
                    request_headers={"content-type": "application/json"},
                    request_body="{}",
                    response_status=delivery.last_status_code,
                    response_body='{"ok": true}',
                    duration_ms=random.randint(20, 400),
                    succeeded=delivery.status == "succeeded",
                )
            )
        Attempt.objects.bulk_create(attempts)
        print(f"  filled {start + len(deliveries)} deliveries", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def users() -> dict[str, Client]:
    admin, _ = User.objects.get_or_create(username="timings-admin", defaults={"is_staff": True, "is_superuser": True})
    operator, _ = User.objects.get_or_create(username="timings-operator", defaults={"is_staff": True})
    operator.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["hooks", "deliveries", "events"])
    )
    Organisation.objects.get(slug="org1").members.add(operator)
    clients = {}
    for name, user in [("superuser", admin), ("operator", operator)]:
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def measure(client: Client, url: str, repeat: int = 5) -> tuple[float, int]:
    timings, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return statistics.median(timings) * 1000, queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60, help="spread the log over this many days (when filling)")
    parser.add_argument("--only", default="", help="time only the pages whose name contains this")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the slowest query per page")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    fill(args.deliveries, args.days)
    clients = users()
    webhook = Webhook.objects.filter(organisation__slug="org1").first()
    event_id = Delivery.objects.filter(webhook=webhook).values_list("event_id", flat=True).first()
    delivery = Delivery.objects.filter(webhook=webhook).first()
    pages = {
        "deliveries": "/admin/deliveries/delivery/",
        "deliveries ?status=failed": "/admin/deliveries/delivery/?status=failed",
        "deliveries ?event_type=rare.event": "/admin/deliveries/delivery/?event_type=rare.event",
        "deliveries ?webhook=<id>": f"/admin/deliveries/delivery/?webhook={webhook.pk}",
        "deliveries ?q=<webhook-id>": f"/admin/deliveries/delivery/?q={event_id}",
        "deliveries, past 7 days": "/admin/deliveries/delivery/?"
        + urlencode({"created_at__gte": timezone.now() - timedelta(days=7)}),
        "deliveries, page 50": "/admin/deliveries/delivery/?p=50",
        "inspector": f"/admin/deliveries/delivery/{delivery.pk}/change/",
        "endpoints": "/admin/hooks/webhook/",
        "endpoint page": f"/admin/hooks/webhook/{webhook.pk}/change/",
        "events": "/admin/events/event/",
        "event page": f"/admin/events/event/{event_id}/change/",
        "dashboard": "/admin/deliveries/delivery/dashboard/",
        "endpoint health (7 days)": f"/admin/hooks/webhook/{webhook.pk}/health/",
        "/metrics (superuser)": "/metrics",
    }
    pages = {name: url for name, url in pages.items() if args.only in name}
    print(f"{Delivery.objects.count()} deliveries; median of 5 requests, in-process")
    print(f"{'page':38} {'superuser':>16} {'operator (1 org)':>18}")
    for name, url in pages.items():
        cells = []
        for who, client in clients.items():
            if url == "/metrics" and who == "operator":
                cells.append("(superusers only)")
                continue
            ms, queries = measure(client, url)
            cells.append(f"{ms:7.1f} ms {queries:2d} q")
        print(f"{name:38} {cells[0]:>16} {cells[1]:>18}")
        if args.explain:
            with CaptureQueriesContext(connection) as captured:
                clients["operator"].get(url)
            slowest = max(captured.captured_queries, key=lambda query: float(query["time"]))
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + slowest["sql"])
                print("    " + "\n    ".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
