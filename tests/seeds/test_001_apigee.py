"""001 Apigee Edge: 2xx succeeds; 5xx (or no answer in 3 s) retried exactly 3 times 5 minutes apart; other codes
never retried; the webhook is never disabled; the body is the flat notification object. Configured through the API."""
from __future__ import annotations

import pytest

from deliveries.models import Delivery
from hooks.models import Webhook
from tests.support.receiver import Reply, always

from .conftest import SKEW, emit, gaps, settle

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DELAY = 2.0  # 5 minutes, scaled down
NOTIFICATION = {"orgName": "myorg", "developerEmail": "dev@example.com", "ratePlanId": "123456",
                "developerRatePlanQuotaTarget": 1000, "developerQuotaResetDate": "2026-12-01"}


def apigee_webhook(client, url: str, name: str, event_type: str = "rateplan.usage-threshold") -> Webhook:
    answer = client.post("/api/webhooks/", {
        "name": name, "url": url, "event_types": [event_type],
        "contract": {"preset": "apigee", "policy": {"delays": [DELAY, DELAY, DELAY]}},
    }, format="json")
    assert answer.status_code == 201, answer.content
    assert "preset apigee" in answer.json()["contract_summary"]
    return Webhook.objects.get(pk=answer.json()["id"])


def test_apigee_retries_only_5xx_three_times_and_never_disables(
        worker, receiver, organisation, member, client_for, event_type):
    # given: four webhooks as an Apigee organisation would have them
    event_type("rateplan.usage-threshold")
    client = client_for(member)
    ok = apigee_webhook(client, receiver.on("/ok", always(201)), "webhook-ok")
    down = apigee_webhook(client, receiver.on("/down", always(503)), "webhook-down")
    refused = apigee_webhook(client, receiver.on("/refused", always(429)), "webhook-refused")

    # when: a usage threshold is reached
    emit("rateplan.usage-threshold", NOTIFICATION, organisation)

    # then: the body is the notification itself, as JSON
    settle(ok, 1)
    (got,) = receiver.at("/ok")
    assert got.json == NOTIFICATION and got.headers["content-type"] == "application/json"
    assert Delivery.objects.get(webhook=ok).status == "succeeded"
    # and: a 5xx is tried 1 + 3 times, DELAY apart, then only the delivery fails: the webhook stays enabled
    (failed,) = settle(down, 1)
    tries = receiver.at("/down")
    assert len(tries) == 4 and all(DELAY - SKEW <= gap <= DELAY + 2.5 for gap in gaps(tries)), gaps(tries)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 4, 503)
    # and: other answers (429 too) are never retried
    (rejected,) = settle(refused, 1)
    assert len(receiver.at("/refused")) == 1 and rejected.status == "failed"
    # and: no answer within the 3 s read timeout counts as a failure and is retried like a 5xx
    event_type("rateplan.exhausted")
    slow = apigee_webhook(client, receiver.on("/slow", lambda request, count: Reply(200, delay=3.5)), "webhook-slow",
                          "rateplan.exhausted")
    emit("rateplan.exhausted", NOTIFICATION, organisation)
    (timed_out,) = settle(slow, 1, timeout=120)
    assert len(receiver.at("/slow")) == 4 and "read timeout (3 s)" in timed_out.last_error
    for webhook in (down, refused, slow):
        webhook.refresh_from_db()
        assert webhook.enabled and webhook.state == "new", webhook.state_reason
