"""Operational alerts through real `celery worker` processes, real receivers and a real SMTP server on loopback.

One receiver goes down: its owners hear "failing" after the threshold and "disabled" when retries run
out (event and email), follow the email's links, re-enable it, and hear "recovered" when it succeeds
again. The operations endpoints get each kind exactly once in the window, a `*` subscriber none, and
an operations endpoint that is itself down does not start a loop.
"""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.db import transaction

import events
from deliveries.models import Notification
from events import catalog
from events.models import Event
from hooks.models import Webhook
from tests.support.receiver import Reply, always
from tests.support.smtp import SMTPServer, bodies
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OPERATIONAL = [
    "hookline.endpoint.failing",
    "hookline.endpoint.invalid",
    "hookline.endpoint.deactivated",
    "hookline.endpoint.recovered",
    "hookline.delivery.exhausted",
]
WORKER = {
    "RETRY_BASE_DELAY": 0.2,
    "RETRY_MAX_DELAY": 0.5,
    "RETRY_JITTER": 0,
    "MAX_ATTEMPTS": 6,
    "ALERT_FAILING_ATTEMPTS": 3,
    "ALERT_FAILING_AFTER": 0,
    "ALERT_WINDOW": 3600,
    "SITE_URL": "http://testserver",
}


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


def emit(key: str, organisation, count: int = 1) -> None:
    with transaction.atomic():
        for n in range(count):
            events.emit(key, {"n": n}, organisation=organisation)


def types_at(receiver, path: str) -> list[str]:
    return [request.json["type"] for request in receiver.at(path)]


def link(text: str, fragment: str) -> str:
    """The path of the email's link containing ``fragment`` (the test client speaks to the site in-process)."""
    url = next(url for url in re.findall(r'https?://[^\s"<>]+', text) if fragment in url)
    assert url.startswith("http://testserver/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_owners_hear_failing_disabled_and_recovered_once_each(
    start_worker, receiver, make_webhook, event_type, organisation, operator, client, smtp
):
    # given: a receiver that is down, its owners' addresses, the organisation's and the site's
    # operations endpoints, a `*` subscriber, and an operations endpoint that is itself down
    event_type("invoice.paid")
    catalog.sync_declared()  # the operational types (a flushed test database lost the migrate-time sync)
    assert Event.objects.count() == 0
    organisation.contact_emails = "owners@acme.test"
    organisation.save()
    up = threading.Event()
    shop, _ = make_webhook(
        receiver.on("/shop", lambda request, count: Reply(200 if up.is_set() else 503)),
        event_types=["invoice.paid"],
        contact_emails="dev@acme.test",
        name="Shop",
    )
    _operations, _ = make_webhook(receiver.on("/ops", always(200)), event_types=OPERATIONAL, name="Acme operations")
    _site, _ = make_webhook(
        receiver.on("/site-ops", always(200)), event_types=OPERATIONAL, organisation=None, name="Site operations"
    )
    make_webhook(receiver.on("/all", always(200)), event_types=["*"], name="Everything")
    broken_ops, _ = make_webhook(
        receiver.on("/broken-ops", always(500)),
        event_types=OPERATIONAL,
        contact_emails="ops-owner@acme.test",
        name="Broken operations",
    )
    start_worker(hookline=WORKER, extra_env={"EMAIL_URL": smtp.url, "DEFAULT_FROM_EMAIL": "hookline@acme.test"})

    # when: the shop endpoint fails
    emit("invoice.paid", organisation, count=2)

    # then: "failing" after three failed attempts, by event and by email
    wait_until(lambda: "hookline.endpoint.failing" in types_at(receiver, "/ops"), timeout=60, message="failing event")
    failing = receiver.at("/ops")[types_at(receiver, "/ops").index("hookline.endpoint.failing")].json["data"]
    assert failing["webhook"] == shop.id and failing["failed_attempts"] >= 3 and failing["last_error"] == "HTTP 503"
    [failing_mail] = wait_until(lambda: smtp.with_subject("“Shop” is failing"), timeout=30, message="failing email")
    assert sorted(failing_mail["To"].addresses[i].addr_spec for i in range(2)) == ["dev@acme.test", "owners@acme.test"]

    # and "disabled" (invalid) with the last error when the retries run out, plus the exhausted deliveries
    wait_until(lambda: Webhook.objects.get(pk=shop.pk).state == "invalid", timeout=60, message="invalid")
    wait_until(lambda: "hookline.endpoint.invalid" in types_at(receiver, "/ops"), timeout=30, message="disabled event")
    disabled = next(r.json["data"] for r in receiver.at("/ops") if r.json["type"] == "hookline.endpoint.invalid")
    assert (disabled["webhook"], disabled["reason"], disabled["last_error"]) == (shop.id, "retries ran out", "HTTP 503")
    [disabled_mail] = wait_until(lambda: smtp.with_subject("“Shop” was disabled"), timeout=30, message="disabled email")
    text, html = bodies(disabled_mail)
    assert "Last error:    HTTP 503" in text and "Failing since:" in text and "retries ran out" in text
    assert "Re-enable the endpoint" in html and "HTTP 503" in html

    # the email's links: the health page, and the re-enable link (login, confirmation, then enabled)
    health, reenable = link(text, "/health/"), link(text, "/reenable/")
    assert link(html, "/health/") == health
    anonymous = client.get(reenable)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    client.force_login(operator)
    page = client.get(health)
    assert page.status_code == 200 and "Shop" in page.content.decode()
    confirm = client.get(reenable)
    assert confirm.status_code == 200 and Webhook.objects.get(pk=shop.pk).state == "invalid"
    history = client.get(link(text, "?webhook__id__exact="))
    assert history.status_code == 200 and "dev@acme.test" in history.content.decode()

    # when: the receiver is fixed and the owner re-enables the endpoint through the link
    up.set()
    assert client.post(reenable).status_code == 302
    assert Webhook.objects.get(pk=shop.pk).state == "new"
    emit("invoice.paid", organisation)

    # then: "recovered", by event and email
    wait_until(lambda: "hookline.endpoint.recovered" in types_at(receiver, "/ops"), timeout=60, message="recovered")
    wait_until(lambda: smtp.with_subject("“Shop” recovered"), timeout=30, message="recovered email")
    assert Webhook.objects.get(pk=shop.pk).state == "valid"

    # when: it fails again within the window
    up.clear()
    emit("invoice.paid", organisation)
    wait_until(
        lambda: (
            Notification.objects.filter(webhook=shop, kind="failing").exists()
            and len([r for r in receiver.at("/shop") if r.json["type"] == "invoice.paid"]) >= 2 * 6 + 1 + 3
        ),
        timeout=60,
        message="a second episode's three failed attempts",
    )
    time.sleep(3)  # what would arrive late has arrived

    # then: each kind reached each operations endpoint exactly once in the window
    expected = {
        "hookline.endpoint.failing": 1,
        "hookline.endpoint.invalid": 1,
        "hookline.delivery.exhausted": 1,
        "hookline.endpoint.recovered": 1,
    }
    for path in ("/ops", "/site-ops"):
        seen = types_at(receiver, path)
        assert {key: seen.count(key) for key in expected} == expected, (path, seen)
        assert {request.json["data"]["webhook"] for request in receiver.at(path)} == {shop.id}
    assert len(smtp.with_subject("“Shop” is failing")) == 1 and len(smtp.with_subject("“Shop” was disabled")) == 1
    assert not smtp.with_subject("“Shop” ran out of retries")  # the disabled email tells that moment
    # a `*` subscriber got the ordinary events and no operational one
    assert not [key for key in types_at(receiver, "/all") if key.startswith("hookline.")]
    assert types_at(receiver, "/all").count("invoice.paid") == 4

    # the broken operations endpoint's owners hear about it by email, but no event is about it: no loop
    wait_until(lambda: smtp.with_subject("“Broken operations” is failing"), timeout=60, message="ops owner email")
    assert not Event.objects.filter(type__startswith="hookline.", payload__webhook=broken_ops.id).exists()
    assert broken_ops.id not in {r.json["data"]["webhook"] for path in ("/ops", "/site-ops") for r in receiver.at(path)}
    operational_events = Event.objects.filter(type__startswith="hookline.").count()
    requests_to_broken = len(receiver.at("/broken-ops"))
    assert requests_to_broken <= operational_events * WORKER["MAX_ATTEMPTS"]
    assert Notification.objects.filter(webhook=broken_ops).count() <= 3  # failing, exhausted, disabled: once each
