"""In headless Chromium: the Hookline dashboard and an endpoint's health page, drawn from a day of deliveries.

Screenshots go to test-artifacts/; HOOKLINE_UPDATE_DOCS=1 also refreshes docs/dashboard.png and
docs/endpoint-health.png.
"""

from __future__ import annotations

import os
import random
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import Attempt, Delivery
from events.models import Event
from hooks import services, states
from tests.integration.test_admin_browser import ARTIFACTS, ROOT, page  # noqa: F401 (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REFUSED = "Connection failed: connection refused by 127.0.0.1:8443"
RAW = (
    "urllib3.exceptions.NewConnectionError: _GuardedHTTPConnection(host='127.0.0.1', port=8443): "
    "Failed to establish a new connection: [Errno 111] Connection refused"
)


def a_day_of_deliveries(organisation) -> dict[str, object]:
    """Three endpoints over the last 24 hours: a healthy one, a flaky one (503s, timeouts) and a dead one."""
    rng = random.Random(16)
    billing = services.create_webhook(
        url="http://127.0.0.1:9101/billing/hooks/in", name="Billing service", organisation=organisation
    )[0]
    crm = services.create_webhook(
        url="http://127.0.0.1:9102/crm/api/webhooks/hookline", name="CRM sync", organisation=organisation
    )[0]
    erp = services.create_webhook(url="http://127.0.0.1:8443/erp/in", name="Legacy ERP", organisation=organisation)[0]
    states.transition(erp, states.RETRIES_RAN_OUT)
    now = timezone.now()
    deliveries, attempts = [], []
    for n in range(900):
        webhook = rng.choices([billing, crm, erp], weights=[70, 25, 5])[0]
        created = now - timedelta(seconds=rng.uniform(0, 86400))
        event = Event(
            type="invoice.paid",
            payload={"invoice": n},
            organisation=organisation,
            created_at=created,
            dispatched_at=created,
        )
        fails = {billing: 0.01, crm: 0.25, erp: 1.0}[webhook]
        ok = rng.random() >= fails
        status = "succeeded" if ok else ("failed" if webhook is erp else rng.choice(["failed", "pending"]))
        latency = rng.lognormvariate(-2.5, 0.6) if ok else 0
        deliveries.append(
            Delivery(
                event=event,
                webhook=webhook,
                status=status,
                attempts=1,
                total_attempts=1,
                last_error=REFUSED if webhook is erp else "",
                created_at=created,
                completed_at=created + timedelta(seconds=latency) if status != "pending" else None,
                next_attempt_at=now + timedelta(minutes=5) if status == "pending" else None,
                last_status_code=200 if ok else (503 if webhook is crm else None),
            )
        )
    Event.objects.bulk_create([delivery.event for delivery in deliveries])
    for delivery in deliveries:
        delivery.event_id = delivery.event.id
    Delivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        ok = delivery.status == "succeeded"
        timeout = not ok and delivery.webhook is not erp and rng.random() < 0.3
        attempts.append(
            Attempt(
                delivery=delivery,
                number=1,
                created_at=delivery.created_at,
                request_url=delivery.webhook.url,
                request_body="{}",
                response_status=delivery.last_status_code if not timeout else None,
                duration_ms=int(rng.lognormvariate(4, 0.5)) if not timeout else 10_000,
                succeeded=ok,
                error=REFUSED
                if delivery.webhook is erp
                else ("No response within the read timeout (10 s)" if timeout else ""),
                error_detail=RAW if delivery.webhook is erp else "",
            )
        )
    Attempt.objects.bulk_create(attempts)
    return {"billing": billing, "crm": crm, "erp": erp}


def test_dashboard_and_endpoint_health(page, live_server, admin_user, organisation):  # noqa: F811
    # given
    endpoints = a_day_of_deliveries(organisation)
    admin = f"{live_server.url}/admin"
    page.goto(f"{admin}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert page.inner_text("#site-name").strip() == "Hookline"

    # the home page leads to the dashboard
    page.click("#content-main a:has-text('Dashboard')")
    page.wait_for_selector("svg.hl-chart")
    assert page.title() == "Hookline dashboard | Hookline"
    chart = page.locator("svg.hl-chart").first
    assert chart.get_attribute("role") == "img" and chart.locator("rect").count() > 20
    assert chart.bounding_box()["width"] > 600
    failing = page.locator("table.hl-table tbody tr")
    assert failing.first.inner_text().startswith("CRM sync") or failing.first.inner_text().startswith("Legacy ERP")
    assert "Billing service" not in failing.first.inner_text()
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=ARTIFACTS / "dashboard-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")

    # an endpoint's health: charts for 7 days, failures grouped by reason
    page.click("table.hl-table a:has-text('Legacy ERP')")
    page.wait_for_selector("text=Recent failures by reason")
    assert page.locator("svg.hl-chart").count() == 3
    reasons = page.locator("table.hl-table tbody tr")
    assert reasons.count() == 1 and "connection refused by 127.0.0.1:8443" in reasons.first.inner_text()
    page.goto(f"{admin}/hooks/webhook/{endpoints['crm'].pk}/health/")
    text = page.inner_text("table.hl-table")
    assert "HTTP 503 Service Unavailable" in text and "No response within the read timeout (10 s)" in text
    page.screenshot(path=ARTIFACTS / "endpoint-health.png", full_page=True)

    # the endpoint page links to it, and offers Enable but not Disable for the invalid endpoint
    page.goto(f"{admin}/hooks/webhook/{endpoints['erp'].pk}/change/")
    assert page.locator(".object-tools a:has-text('Health')").count() == 1
    assert (
        page.locator("button:has-text('Enable')").count() == 1
        and page.locator("button:has-text('Disable')").count() == 0
    )
    # a pending delivery shows why it failed and when it is tried next, in the list and the inspector
    page.goto(f"{admin}/deliveries/delivery/?status=pending&webhook={endpoints['crm'].pk}")
    first = page.locator("#result_list tbody tr").first.inner_text().replace("\xa0", " ")
    assert "503" in first and ("next attempt in 4 minutes" in first or "next attempt in 5 minutes" in first)
    page.screenshot(path=ARTIFACTS / "pending-deliveries.png", full_page=True)
    erp_delivery = Delivery.objects.filter(webhook=endpoints["erp"]).first()
    page.goto(f"{admin}/deliveries/delivery/{erp_delivery.pk}/change/")
    assert page.inner_text(".hl-summary .hl-error") == REFUSED
    assert page.locator("[role=tablist] [role=tab][aria-selected=true]").inner_text().startswith("Response")
    page.click("text=Raw exception")
    assert "NewConnectionError" in page.inner_text(".hl-raw pre")
    page.keyboard.press("Shift+Tab")
    page.screenshot(path=ARTIFACTS / "inspector-error.png", full_page=True)
    if os.environ.get("HOOKLINE_UPDATE_DOCS"):
        shutil.copyfile(ARTIFACTS / "dashboard.png", ROOT / "docs" / "dashboard.png")
        shutil.copyfile(ARTIFACTS / "endpoint-health.png", ROOT / "docs" / "endpoint-health.png")
