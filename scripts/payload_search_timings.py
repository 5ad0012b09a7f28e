"""Time the payload search (``data.notice.id = 42``) on 1,000,000 events and deliveries on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
        python scripts/payload_search_timings.py [--events 1000000] [--explain]

It migrates the database and fills it once with SQL (``generate_series``: events whose payload is
``{"notice": {"id": n % 100000, "title": …}, "amount": …, "lines": […]}``, 10 events per notice id,
one delivery each), then runs the API's event and delivery lists and the admin's, filtered by a payload
field, as a superuser, in-process, for several ids, and prints the median and the worst time. Use a
scratch database: the data stays for the next run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from deliveries.models import Delivery  # noqa: E402
from events import search  # noqa: E402
from events.models import Event, EventType, Organisation  # noqa: E402
from hooks import services  # noqa: E402

NOTICES = 100_000


def fill(total: int) -> None:
    if Event.objects.count() >= total:
        return
    EventType.objects.get_or_create(key="notice.published")
    organisation = Organisation.objects.get_or_create(slug="search", defaults={"name": "Search"})[0]
    webhook, _ = services.create_webhook(url="http://127.0.0.1:9/search", organisation=organisation)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO events_event (id, type, payload, organisation_id, created_at, dispatched_at)
            SELECT 'msg_search' || lpad(n::text, 10, '0'), 'notice.published',
                   jsonb_build_object('notice', jsonb_build_object('id', n %% %s, 'title', 'Notice ' || n),
                                      'amount', ((n %% 1000) / 100.0)::text, 'lines', jsonb_build_array(1, 2, 3)),
                   %s, now() - make_interval(secs => n), now() - make_interval(secs => n)
            FROM generate_series(1, %s) AS n
            """,
            [NOTICES, organisation.id, total],
        )
        cursor.execute(
            """
            INSERT INTO deliveries_delivery (event_id, webhook_id, status, attempts, total_attempts, claim_token,
                                             last_status_code, last_error, created_at, completed_at)
            SELECT id, %s, 'succeeded', 1, 1, '', 200, '', created_at, created_at FROM events_event
            WHERE id LIKE 'msg_search%%'
            """,
            [webhook.id],
        )
        cursor.execute("ANALYZE events_event")
        cursor.execute("ANALYZE deliveries_delivery")
    print(f"filled {total:,} events and deliveries in {time.perf_counter() - started:.0f} s", flush=True)


def timed(client: APIClient, path: str, params: dict, expected: int) -> float:
    started = time.perf_counter()
    response = client.get(path, params)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content[:500]
    assert response.json()["count"] == expected, (path, params, response.json()["count"])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true", help="print the plans of the two queries")
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL (DATABASE_URL=postgres://…): the index is PostgreSQL's.")
    call_command("migrate", verbosity=0)
    fill(arguments.events)
    user = User.objects.filter(username="search-admin").first() or User.objects.create_superuser(
        "search-admin", password="x"
    )
    client = APIClient()
    client.force_authenticate(user)
    per_id = arguments.events // NOTICES
    ids = [42, 4242, 77777, 99999, 12345]
    for path in ("/api/events/", "/api/deliveries/"):
        client.get(path, {"payload": "data.notice.id = 1"})  # warm: imports, connection, plan cache
        times = [
            timed(client, path, {"payload": f"data.notice.id = {notice}"}, per_id) for notice in ids for _ in range(3)
        ]
        print(
            f"GET {path}?payload=data.notice.id = N ({per_id} of {arguments.events:,} match): "
            f"median {statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms "
            "(whole request, COUNT included)"
        )
    setup_test_environment()  # so that a page's context (its result list) can be checked
    browser = Client()
    browser.force_login(user)
    for name in ("events_event", "deliveries_delivery"):
        url = reverse(f"admin:{name}_changelist")
        browser.get(url, {"q": "data.notice.id = 1"})
        times = []
        for notice in ids:
            started = time.perf_counter()
            page = browser.get(url, {"q": f"data.notice.id = {notice}"})
            times.append(time.perf_counter() - started)
            assert page.status_code == 200 and len(page.context["cl"].result_list) == per_id
        print(
            f"admin {url}?q=data.notice.id = N: median {statistics.median(times) * 1000:.1f} ms, "
            f"worst {max(times) * 1000:.1f} ms (whole page)"
        )
    missing = [timed(client, "/api/events/", {"payload": "data.notice.title = no such title"}, 0) for _ in range(5)]
    print(f"GET /api/events/?payload=… matching nothing: median {statistics.median(missing) * 1000:.1f} ms")
    if arguments.explain:
        for query in (
            Event.objects.filter(search.payload_q("notice.id = 42")),
            Delivery.objects.filter(search.payload_q("notice.id = 42", prefix="event__")),
        ):
            print(query.explain(analyze=True))


if __name__ == "__main__":
    main()
