"""The alert email's HTML in headless Chromium: what an owner sees when an endpoint was disabled.

The screenshot goes to test-artifacts/alert-email.png; HOOKLINE_UPDATE_DOCS=1 also refreshes docs/alert-email.png.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.alerts import mail
from deliveries.models import AlertState, Notification
from hooks import services, states
from tests.integration.test_admin_browser import ARTIFACTS, ROOT, page  # noqa: F401 (the Chromium fixture)
from tests.support.overrides import hookline

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REFUSED = "Connection failed: connection refused by 127.0.0.1:8443"


def test_the_disabled_email_reads_well_in_a_browser(page, organisation):  # noqa: F811
    # given: an endpoint that failed for three hours until its retries ran out
    organisation.contact_emails = "billing-team@acme.example"
    organisation.save()
    webhook, _ = services.create_webhook(
        url="http://127.0.0.1:8443/billing/hooks/in",
        name="Billing service",
        organisation=organisation,
        contact_emails="oncall@acme.example",
    )
    AlertState.objects.create(
        webhook=webhook,
        failing_since=timezone.now() - timedelta(hours=3, minutes=12),
        failed_attempts=18,
        last_error=REFUSED,
    )
    with hookline(SITE_URL="https://hooks.acme.example"):
        states.transition(webhook, states.RETRIES_RAN_OUT)
        notification = Notification.objects.get(kind="disabled")
        message = mail.compose(notification)
    html = message.alternatives[0][0]

    # when
    page.set_viewport_size({"width": 760, "height": 700})
    page.set_content(html)

    # then: what failed, since when, the last error, and the two links, legible
    assert page.locator("h1").inner_text() == "Endpoint “Billing service” was disabled"
    body = page.inner_text("body")
    assert "18 failed attempts in a row" in body and REFUSED in body and "retries ran out" in body
    reenable = page.locator("a:has-text('Re-enable the endpoint')")
    assert reenable.get_attribute("href").startswith(
        "https://hooks.acme.example/admin/deliveries/notification/reenable/"
    )
    health = page.locator("a:has-text('Endpoint health')")
    assert health.get_attribute("href") == f"https://hooks.acme.example/admin/hooks/webhook/{webhook.pk}/health/"
    assert reenable.bounding_box()["height"] > 30  # drawn as a button, not a bare link
    assert message.to == ["oncall@acme.example", "billing-team@acme.example"]
    page.screenshot(path=ARTIFACTS / "alert-email.png", full_page=True)
    if os.environ.get("HOOKLINE_UPDATE_DOCS") == "1":
        shutil.copy(ARTIFACTS / "alert-email.png", ROOT / "docs" / "alert-email.png")
