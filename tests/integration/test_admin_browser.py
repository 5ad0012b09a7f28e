"""End to end in headless Chromium: an operator sets up an endpoint, watches deliveries and inspects them.

Real pieces only: the live Django server, a real `celery worker` on the test database and Redis, a
loopback receiver, and Debian's Chromium driven by Playwright (never a downloaded browser).
Screenshots go to test-artifacts/; HOOKLINE_UPDATE_DOCS=1 also refreshes docs/inspector.png.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from django.db import connections, transaction

import events
from deliveries.models import Delivery
from hooks.models import Webhook
from tests.conftest import IN_CI
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("HOOKLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def page(request, monkeypatch):
    """A Chromium page. Playwright's sync API runs an event loop in this thread, so the ORM must be allowed here."""
    if not Path(CHROMIUM).exists():
        message = f"needs Chromium at {CHROMIUM} (apt-get install chromium; scripts/test.sh does it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        opened = context.new_page()
        opened.set_default_timeout(30_000)
        try:
            yield opened
            report = getattr(request.node, "report_call", None)
            if report is not None and report.failed:  # what the browser showed when the test failed
                opened.screenshot(path=ARTIFACTS / f"{request.node.name}-failed.png", full_page=True)
                (ARTIFACTS / f"{request.node.name}-failed.html").write_text(opened.content())
        finally:
            # While Playwright's loop runs, Django keeps this thread's connections apart (asgiref's
            # Local): close the ones the test opened, or the test database cannot be dropped.
            connections.close_all()
            context.close()
            browser.close()


def answer_with_what_arrived(request, count: int) -> Reply:
    """The receiver's reply names what it got, so the inspector can be checked against it."""
    body = {"received": True, "webhook_id": request.webhook_id, "type": request.json["type"], "request_number": count}
    return Reply(200, body=json.dumps(body).encode())


def test_operator_creates_tests_inspects_redelivers_and_disables(
    page, live_server, worker, receiver, operator, organisation, event_type
):
    # given
    event_type("invoice.paid", description="An invoice was paid.")
    url = receiver.on("/billing", answer_with_what_arrived)
    admin = f"{live_server.url}/admin"

    # log in
    page.goto(f"{admin}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "op-password")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    # create an endpoint and see its secret once
    page.goto(f"{admin}/hooks/webhook/add/")
    page.select_option("#id_organisation", str(organisation.pk))
    page.fill("#id_name", "Billing service")
    page.fill("#id_url", url)
    page.fill("#id_event_types", "invoice.*\nwebhook.test")
    page.click("input[name=_save]")
    page.wait_for_selector("text=Copy this secret now")
    page.screenshot(path=ARTIFACTS / "endpoint-created.png", full_page=True)
    secret = page.inner_text(".hookline-secret-value").strip()
    webhook = Webhook.objects.get()
    assert secret.startswith("whsec_") and secret == webhook.secret and webhook.created_by == operator
    page.click("text=Continue to the endpoint")
    assert secret not in page.content()

    # send a test
    page.click("button:has-text('Send test')")
    page.wait_for_selector("text=answered 200")
    assert Webhook.objects.get().state == "valid"

    # emit an event; the worker delivers it
    with transaction.atomic():
        event = events.emit(
            "invoice.paid", {"invoice": 42, "amount": "9.90", "currency": "EUR"}, organisation=organisation
        )
    wait_until(
        lambda: Delivery.objects.filter(event=event, status="succeeded").exists(), timeout=60, message="delivery"
    )

    # the endpoint list
    page.goto(f"{admin}/hooks/webhook/")
    row = page.locator("#result_list tbody tr", has_text="Billing service")
    assert "valid" in row.inner_text() and "100%" in row.inner_text()
    page.screenshot(path=ARTIFACTS / "endpoint-list.png", full_page=True)

    # find the delivery by its webhook-id and open the inspector
    page.goto(f"{admin}/deliveries/delivery/")
    page.screenshot(path=ARTIFACTS / "deliveries.png", full_page=True)
    page.fill("#searchbar", event.id)
    page.press("#searchbar", "Enter")
    page.click(f"#result_list a:has-text('{event.id}')")
    body = page.locator(".hl-attempt[open] .hl-response-body")
    assert json.loads(body.inner_text()) == {
        "received": True,
        "webhook_id": event.id,
        "type": "invoice.paid",
        "request_number": 2,
    }

    # redeliver it: same webhook-id, a second attempt in the inspector
    page.click("button:has-text('Redeliver')")
    page.wait_for_selector("text=Queued 1 redelivery")
    wait_until(
        lambda: len([r for r in receiver.at("/billing") if r.webhook_id == event.id]) == 2,
        timeout=60,
        message="the redelivery",
    )
    wait_until(lambda: Delivery.objects.get(event=event).attempt_log.count() == 2, timeout=30, message="its log")
    page.reload()
    assert page.locator(".hl-attempt").count() == 2
    assert '"request_number": 3' in page.locator(".hl-attempt[open] .hl-response-body").inner_text()
    page.click(".hl-attempt[open] [role=tab]:has-text('Request')")
    assert '"invoice": 42' in page.locator(".hl-attempt[open] .hl-request pre").inner_text()
    page.screenshot(path=ARTIFACTS / "inspector-request.png", full_page=True)
    page.click(".hl-attempt[open] [role=tab]:has-text('Response')")
    page.screenshot(path=ARTIFACTS / "inspector.png", full_page=True)
    if os.environ.get("HOOKLINE_UPDATE_DOCS"):
        shutil.copyfile(ARTIFACTS / "inspector.png", ROOT / "docs" / "inspector.png")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=ARTIFACTS / "inspector-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")

    # the event, with the deliveries it fanned out to
    page.click("table.hl-summary a:has-text('invoice.paid')")
    assert "Billing service" in page.inner_text("#deliveries-group") and "succeeded" in page.inner_text(
        "#deliveries-group"
    )
    page.screenshot(path=ARTIFACTS / "event.png", full_page=True)
    page.go_back()

    # recover asks since when (nothing failed here), then disable the endpoint
    page.click("table.hl-summary a:has-text('Billing service')")
    page.click("button:has-text('Recover failed')")
    page.wait_for_selector("text=Failed since (UTC)")
    page.screenshot(path=ARTIFACTS / "recover.png", full_page=True)
    page.click("input[value='Re-queue failed deliveries']")
    page.wait_for_selector("text=Re-queued 0 failed delivery(ies)")
    page.click("button:has-text('Disable')")
    page.wait_for_selector("text=Disabled 1 endpoint")
    page.screenshot(path=ARTIFACTS / "endpoint.png", full_page=True)
    assert Webhook.objects.get().state == "deactivated"


def test_the_endpoint_form_offers_a_preset_and_typed_options_with_their_defaults(
    page, live_server, operator, organisation
):
    # given
    admin = f"{live_server.url}/admin"
    page.goto(f"{admin}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "op-password")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    # when: the add page opens, its options folded away, each showing its default
    page.goto(f"{admin}/hooks/webhook/add/")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=ARTIFACTS / "endpoint-add.png", full_page=True)
    assert height < 1800, f"the add page is {height} px tall"
    assert page.input_value("#id_condition") == "" and "null" not in page.input_value("#id_condition")
    page.click("summary:has-text('Delivery control')")
    assert page.get_attribute("#id_breaker_threshold", "placeholder") == "0"  # HOOKLINE BREAKER_THRESHOLD, resolved
    assert "Default: HOOKLINE BREAKER_THRESHOLD" in page.inner_text(".field-breaker_threshold")
    page.click("summary:has-text('Request: headers and proxy')")
    page.click("summary:has-text('Delivery contract: retries and timeouts')")
    assert page.get_attribute("#id_policy_attempts", "placeholder").isdigit()
    page.screenshot(path=ARTIFACTS / "endpoint-add-options.png", full_page=True)

    # and an operator picks a preset and overrides two options by typing them
    page.select_option("#id_organisation", str(organisation.pk))
    page.fill("#id_url", "http://127.0.0.1:9/apigee")
    page.select_option("#id_preset", "apigee")
    page.fill("#id_rate_limit", "20")
    page.fill("#id_headers", "X-Tenant: acme")
    page.fill("#id_policy_attempts", "6")
    page.click("input[name=_save]")
    page.wait_for_selector("text=Copy this secret now")

    # then: one contract: the preset's values, the typed overrides
    contract = Webhook.objects.get().contract
    assert contract["preset"] == "apigee" and contract["policy"]["attempts"] == 6
    assert contract["policy"]["retry_on"] == "5xx" and contract["body"] == {"shape": "payload"}
    assert contract["control"] == {"rate_limit": 20} and contract["request"] == {"headers": {"X-Tenant": "acme"}}

    # and the change page shows the stored values in the same fields, with a preview of the body
    page.click("text=Continue to the endpoint")
    page.click("summary:has-text('Delivery contract: body')")
    assert '"amount": "9.90"' in page.inner_text(".field-body_preview")
    assert page.input_value("#id_policy_attempts") == "6" and page.input_value("#id_preset") == "apigee"
    page.screenshot(path=ARTIFACTS / "endpoint-change.png", full_page=True)
