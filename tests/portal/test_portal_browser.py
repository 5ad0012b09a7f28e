"""End to end in headless Chromium: a customer opens a magic link, adds an endpoint, tests it, reads the log.

Real pieces only: the live Django server, a real `celery worker`, a loopback receiver that verifies every
request with the `standardwebhooks` library, and Debian's Chromium driven by Playwright.
Screenshots go to test-artifacts/portal-*.png; HOOKLINE_UPDATE_DOCS=1 also refreshes docs/portal-*.png.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook

import events
from deliveries.models import Delivery
from events.models import Event
from hooks import services
from hooks.models import Webhook
from portal import links
from portal.models import PortalLink
from tests.integration.test_admin_browser import ARTIFACTS, ROOT, page  # noqa: F401  (the Chromium page fixture)
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DOCS_SHOTS = {"open", "create", "endpoints", "secret", "endpoint", "inspector", "deliveries", "refused", "health", "ja"}


def shoot(page, name: str) -> None:  # noqa: F811
    path = ARTIFACTS / f"portal-{name}.png"
    page.screenshot(path=path, full_page=True)
    if os.environ.get("HOOKLINE_UPDATE_DOCS") and name in DOCS_SHOTS:
        shutil.copyfile(path, ROOT / "docs" / f"portal-{name}.png")


def open_link(page, url: str, *, shot: str = "") -> None:  # noqa: F811
    """Open a magic link as a customer does: the page with the button, then the button (the POST uses the link)."""
    page.goto(url)
    if shot:
        shoot(page, shot)
    with page.expect_navigation():
        page.click("button:has-text('Continue to the portal'), form[method=post] button[autofocus]")


def answer_with_what_arrived(request, count: int) -> Reply:
    body = {"received": True, "webhook_id": request.webhook_id, "type": request.json["type"], "request_number": count}
    return Reply(200, body=json.dumps(body).encode())


def test_customer_adds_tests_inspects_redelivers_and_recovers(
    page,  # noqa: F811  (the imported fixture)
    live_server,
    start_worker,
    receiver,
    organisation,
    other_organisation,
    event_type,
):
    # given
    event_type(
        "invoice.paid",
        description="An invoice was paid.",
        schema={"type": "object", "properties": {"invoice": {"type": "integer"}}},
    )
    event_type("user.created", description="A user signed up.")
    url = receiver.on("/orders", answer_with_what_arrived)
    start_worker()
    portal = f"{live_server.url}/webhooks"

    # a magic link opens the portal of one organisation, on the button its page shows
    link = live_server.url + links.mint(organisation).path
    assert requests.get(link, timeout=10).status_code == 200  # a mail scanner's GET first: it uses nothing
    open_link(page, link, shot="open")
    page.wait_for_selector("text=No endpoints yet")

    # add an endpoint: the catalog with descriptions and an example payload, the secret shown once
    page.click("text=Add endpoint")
    assert "An invoice was paid." in page.inner_text("fieldset")
    invoice_paid = page.locator(".choice", has=page.locator("input[value='invoice.paid']"))
    invoice_paid.locator("summary:has-text('Example payload (made from the schema)')").click()
    assert json.loads(invoice_paid.locator("details.example pre").inner_text()) == {"invoice": 42}
    page.fill("#id_url", url)
    page.fill("#id_name", "Order service")
    page.fill("#id_contact_emails", "ops@acme.example")
    page.check("input[value='invoice.paid']")
    shoot(page, "create")
    page.click("button:has-text('Create endpoint')")
    page.wait_for_selector("text=Copy the signing secret now")
    secret = page.input_value("#secret")
    webhook = Webhook.objects.get()
    assert secret.startswith("whsec_") and secret == webhook.secret
    assert webhook.organisation == organisation and webhook.event_types == ["invoice.paid"]
    assert webhook.contact_emails == "ops@acme.example"
    shoot(page, "secret")
    page.click("text=Continue to the endpoint")
    assert secret not in page.content()
    shoot(page, "endpoint")

    # send a test: the receiver gets a request its Standard Webhooks library accepts, and its answer shows
    page.click("button:has-text('Send a test event')")
    page.wait_for_selector(".attempt")
    test_request = receiver.at("/orders")[0]
    assert StandardWebhook(secret).verify(test_request.body, test_request.headers)["type"] == "webhook.test"
    assert '"request_number": 1' in page.inner_text(".response-body")
    assert Webhook.objects.get().state == Webhook.State.VALID

    # an event the worker delivers shows in the log; the status filter keeps it
    with transaction.atomic():
        event = events.emit("invoice.paid", {"invoice": 42}, organisation=organisation)
    wait_until(
        lambda: Delivery.objects.filter(event=event, status="succeeded").exists(), timeout=60, message="delivery"
    )
    page.goto(f"{portal}/deliveries/")
    page.select_option("#id_status", "succeeded")
    page.click("button:has-text('Filter')")
    page.wait_for_selector(f"a:has-text('{event.id}')")
    shoot(page, "deliveries")

    # the inspector, then redeliver: the same webhook-id arrives again, a second attempt is logged
    page.click(f"a:has-text('{event.id}')")
    assert json.loads(page.inner_text(".response-body"))["webhook_id"] == event.id
    assert '"invoice": 42' in page.inner_text(".attempt pre.body")
    page.click("button:has-text('Redeliver')")
    page.wait_for_selector("text=Queued again")
    wait_until(
        lambda: [r.webhook_id for r in receiver.at("/orders")].count(event.id) == 2,
        timeout=60,
        message="the redelivery",
    )
    wait_until(lambda: Delivery.objects.get(event=event).attempt_log.count() == 2, timeout=30, message="its log")
    page.reload()
    assert page.locator(".attempt").count() == 2
    shoot(page, "inspector")
    for received in receiver.at("/orders"):
        StandardWebhook(secret).verify(received.body, received.headers)

    # recover: a delivery that failed since a time is sent again
    Delivery.objects.filter(event=event).update(status=Delivery.Status.FAILED)
    page.goto(f"{portal}/endpoints/{webhook.pk}/")
    page.fill("#id_since", (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('Resend failed deliveries')")
    page.wait_for_selector("text=1 failed deliveries queued again")
    wait_until(
        lambda: [r.webhook_id for r in receiver.at("/orders")].count(event.id) == 3,
        timeout=60,
        message="the recovered delivery",
    )

    # the endpoint's week: success rate and durations per day
    page.click("text=Health, last 7 days")
    page.wait_for_selector("svg.hl-chart")

    # the list shows health at a glance
    page.goto(f"{portal}/")
    row = page.locator("tbody tr", has_text="Order service")
    assert "Valid" in row.inner_text() or "valid" in row.inner_text()
    shoot(page, "endpoints")

    # organisation B's ids are 404 inside A's session
    theirs, _ = services.create_webhook(url=url, name="Globex", organisation=other_organisation)
    assert page.goto(f"{portal}/endpoints/{theirs.pk}/").status == 404
    assert page.goto(f"{portal}/endpoints/{theirs.pk}/edit/").status == 404


def test_reused_and_expired_links_are_refused(page, live_server, organisation):  # noqa: F811
    # given
    used = links.mint(organisation)
    expired = links.mint(organisation, ttl=60)
    PortalLink.objects.filter(pk=PortalLink.objects.order_by("-pk").first().pk).update(expires_at=timezone.now())

    # a link opens once: the customer's button uses it
    open_link(page, live_server.url + used.path)
    assert page.url == f"{live_server.url}/webhooks/"
    page.context.clear_cookies()
    answer = page.goto(live_server.url + used.path)
    assert answer.status == 410 and "already used" in page.inner_text("main")
    assert page.locator("button:has-text('Continue to the portal')").count() == 0
    shoot(page, "refused")
    assert page.goto(f"{live_server.url}/webhooks/").status == 403

    # an expired one never does
    answer = page.goto(live_server.url + expired.path)
    assert answer.status == 410 and "expired" in page.inner_text("main")


def test_the_japanese_locale_renders(page, live_server, organisation, event_type, make_webhook):  # noqa: F811
    # given
    event_type(
        "invoice.paid",
        description="請求書が支払われました。",
        schema={"type": "object", "properties": {"invoice": {"type": "integer"}}},
    )
    make_webhook("http://127.0.0.1:9/ja", name="受注システム", event_types=["invoice.paid"])
    page.set_extra_http_headers({"Accept-Language": "ja"})

    # when
    open_link(page, live_server.url + links.mint(organisation).path, shot="ja-open")
    page.goto(f"{live_server.url}/webhooks/endpoints/new/")
    page.locator(".choice", has=page.locator("input[value='invoice.paid']")).locator("details.example summary").click()

    # then: Japanese text, drawn with a CJK font (not the empty boxes of a missing glyph)
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "エンドポイントを追加" in page.inner_text("h1") and "ペイロードの例" in page.inner_text("fieldset")
    drawn = page.evaluate(
        """(chars) => chars.map((ch) => {
             const canvas = Object.assign(document.createElement("canvas"), {width: 32, height: 32});
             const context = canvas.getContext("2d");
             context.font = "24px " + getComputedStyle(document.body).fontFamily;
             context.fillText(ch, 2, 26);
             return canvas.toDataURL(); })""",
        ["エ", "ン", "追", "\U0010fffd"],  # the last has no glyph in any font: the empty box
    )
    assert len(set(drawn)) == 4, "Japanese characters render as empty boxes: install fonts-noto-cjk"
    shoot(page, "ja")


def a_week_of_deliveries(webhook) -> None:
    """Seven days of one endpoint's deliveries: mostly answered, some failing for four different reasons."""
    rng = random.Random(26)
    now = timezone.now()
    reasons = [
        (503, ""),
        (503, ""),
        (503, ""),
        (500, ""),
        (429, ""),
        (None, "No response within the read timeout (10 s)"),
    ]
    reasons += [(None, "Connection failed: connection refused by 198.51.100.7:443")]
    for n in range(160):
        created = now - timedelta(seconds=rng.uniform(0, 7 * 86400 - 3600))
        event = Event.objects.create(
            type="invoice.paid",
            payload={"invoice": n},
            organisation=webhook.organisation,
            created_at=created,
            dispatched_at=created,
        )
        ok = rng.random() > 0.2
        status, error = (200, "") if ok else rng.choice(reasons)
        delivery = Delivery.objects.create(
            event=event,
            webhook=webhook,
            created_at=created,
            completed_at=created + timedelta(seconds=1),
            status="succeeded" if ok else "failed",
            total_attempts=1,
            attempts=1,
            last_status_code=status,
            last_error=error,
        )
        delivery.attempt_log.create(
            number=1,
            created_at=created,
            request_url=webhook.url,
            request_body="{}",
            response_status=status,
            error=error,
            succeeded=ok,
            duration_ms=10_000 if error.startswith("No response") else int(rng.lognormvariate(4.5, 0.5)),
        )


def test_the_health_page_charts_failures_by_reason(page, live_server, organisation, make_webhook):  # noqa: F811
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/orders", name="Order service", event_types=["invoice.paid"])
    a_week_of_deliveries(webhook)
    open_link(page, live_server.url + links.mint(organisation).path)

    # when
    page.goto(f"{live_server.url}/webhooks/endpoints/{webhook.pk}/health/")

    # then: three charts side by side; the reasons' bars say their numbers to a screen reader, the table stays
    assert page.locator(".charts svg.hl-chart").count() == 3
    bars = page.locator("svg.hl-bars")
    rows = page.locator("section[aria-labelledby=reasons-table-title] tbody tr")
    assert bars.locator("rect").count() == rows.count() >= 4
    first = rows.first.locator("td")
    assert f"{first.nth(0).inner_text()}: {first.nth(1).inner_text()}" in bars.get_attribute("aria-label")
    assert bars.bounding_box()["width"] > 300
    shoot(page, "health")


def tab_to(page, selector: str, limit: int = 60) -> None:  # noqa: F811
    """Press Tab until the focus is on ``selector`` (as a keyboard-only user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_walk_through(page, live_server, organisation, event_type, receiver):  # noqa: F811
    # given
    event_type("invoice.paid", description="An invoice was paid.")
    url = receiver.on("/kbd", answer_with_what_arrived)
    page.goto(live_server.url + links.mint(organisation).path)
    page.keyboard.press("Enter")  # the button has the focus on the link's page
    page.wait_for_selector("text=No endpoints yet")

    # add an endpoint with the keyboard alone
    tab_to(page, "a.button[href$='/endpoints/new/']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#id_url")
    tab_to(page, "#id_url")
    page.keyboard.type(url)
    tab_to(page, "#id_name")
    page.keyboard.type("Keyboard")
    tab_to(page, "input[value='invoice.paid']")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Copy the signing secret now")
    assert Webhook.objects.get().name == "Keyboard"

    # on to the endpoint, send a test, reach the inspector
    tab_to(page, "a.button[href*='/endpoints/']")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Send a test event")
    tab_to(page, "form[action$='/test/'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector(".attempt")
    assert receiver.at("/kbd")


def test_no_serious_accessibility_findings(page, live_server, organisation, event_type, make_webhook):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    # given: every page with content on it
    event_type("invoice.paid", description="An invoice was paid.", schema={"type": "object"})
    webhook, _ = make_webhook("http://127.0.0.1:9/a11y", name="Accessible", event_types=["invoice.paid"])
    now = timezone.now()
    event = Event.objects.create(
        type="invoice.paid", payload={"n": 1}, organisation=organisation, created_at=now, dispatched_at=now
    )
    delivery = Delivery.objects.create(event=event, webhook=webhook, created_at=now, status="failed", total_attempts=1)
    delivery.attempt_log.create(
        number=1,
        created_at=now,
        request_url=webhook.url,
        request_headers={"a": "b"},
        request_body='{"n": 1}',
        response_status=500,
        response_body="oops",
    )
    portal = f"{live_server.url}/webhooks"
    page.goto(live_server.url + links.mint(organisation).path)
    results = Axe().run(page)  # the link's page, with its button
    findings = {"open": [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]}
    findings = {path: found for path, found in findings.items() if found}
    page.click("button:has-text('Continue to the portal')")
    pages = [
        "/",
        f"/endpoints/{webhook.pk}/",
        f"/endpoints/{webhook.pk}/health/",
        "/endpoints/new/",
        f"/endpoints/{webhook.pk}/edit/",
        f"/endpoints/{webhook.pk}/delete/",
        "/deliveries/",
        f"/deliveries/{delivery.pk}/",
        "/event-types/",
    ]

    # when
    for path in pages:
        page.goto(portal + path)
        results = Axe().run(page)
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if serious:
            findings[path] = serious

    # then
    assert not findings, findings
