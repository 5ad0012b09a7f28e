"""001 Apigee Edge: the notification object alone as the body; 2xx succeeds; 5xx (or no answer within the 3 s
connect and read timeouts) retried exactly 3 times 5 minutes apart; other answers never retried; the webhook is
never disabled; its `*` never brings Hookline's own hookline.* events. Configured by the published recipe."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from deliveries.models import Delivery
from hooks import services
from hooks.models import Webhook
from tests.support.receiver import Reply, always
from tests.support.waiting import wait_until

from .conftest import SKEW, emit, gaps, settle

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DELAY = 2.0  # 5 minutes, scaled down
# The receiver answers each notification as its triggerReason says.
ANSWERS = {"ok": Reply(201), "down": Reply(503), "refused": Reply(429), "slow": Reply(200, delay=3.5)}


def notification(reason: str) -> dict:
    return {
        "orgName": "myorg",
        "developerEmail": "dev@example.com",
        "ratePlanId": "123456",
        "developerRatePlanQuotaTarget": 1000,
        "quotaPercentUsed": 80,
        "triggerReason": reason,
    }


def test_apigee_retries_only_5xx_three_times_and_never_disables(
    start_worker, receiver, organisation, member, client_for, event_type, shell
):
    # given: the webhook of the recipe, as published (its delays scaled down through the same contract key)
    event_type("rateplan.usage-threshold")
    (created,) = shell("001-apigee")
    webhook = Webhook.objects.get(pk=created["id"])
    assert (created["name"], created["event_types"], webhook.organisation) == ("webhook3", ["*"], organisation)
    assert "preset apigee" in created["contract_summary"]
    client = client_for(member)
    scaled = client.patch(
        f"/api/webhooks/{webhook.pk}/",
        {"contract": {"preset": "apigee", "policy": {"delays": [DELAY, DELAY, DELAY]}}},
        format="json",
    )
    assert scaled.status_code == 200, scaled.content
    path = urlsplit(webhook.url).path
    receiver.on(path, lambda request, count: ANSWERS[request.json["triggerReason"]])
    start_worker()

    # when: four usage thresholds are reached, each answered its own way (the slow one after the others: a run
    # records its attempts when its slowest request ends, which would stretch the others' spacing)
    sent = {
        reason: emit("rateplan.usage-threshold", notification(reason), organisation)
        for reason in ANSWERS
        if reason != "slow"
    }
    settle(webhook, 3, timeout=120)
    sent["slow"] = emit("rateplan.usage-threshold", notification("slow"), organisation)

    # then
    settle(webhook, 4, timeout=120)
    tries = {reason: [r for r in receiver.at(path) if r.webhook_id == msg_id] for reason, msg_id in sent.items()}
    outcome = {reason: Delivery.objects.get(webhook=webhook, event_id=msg_id) for reason, msg_id in sent.items()}
    # the body is the notification itself, as JSON; a 2xx succeeds at once
    (ok,) = tries["ok"]
    assert ok.json == notification("ok") and ok.headers["content-type"] == "application/json"
    assert outcome["ok"].status == "succeeded"
    # a 5xx is tried 1 + 3 times, DELAY apart, then only the delivery fails
    assert len(tries["down"]) == 4 and all(DELAY - SKEW <= gap <= DELAY + 2.5 for gap in gaps(tries["down"])), gaps(
        tries["down"]
    )
    assert (outcome["down"].status, outcome["down"].attempts, outcome["down"].last_status_code) == ("failed", 4, 503)
    # other answers (429 too) are never retried
    assert len(tries["refused"]) == 1 and outcome["refused"].status == "failed"
    # no answer within the 3 s read timeout is a failure, retried like a 5xx
    assert len(tries["slow"]) == 4 and "read timeout (3 s)" in outcome["slow"].last_error
    # and: the webhook is never disabled
    webhook.refresh_from_db()
    assert webhook.enabled and webhook.state == "valid", webhook.state_reason

    # when: another endpoint of the organisation fails its test, so Hookline emits hookline.endpoint.invalid
    operations, _ = services.create_webhook(
        url=receiver.on("/ops", always(200)),
        organisation=organisation,
        name="Operations",
        event_types=["hookline.endpoint.invalid"],
    )
    broken, _ = services.create_webhook(
        url=receiver.on("/broken", always(500)),
        organisation=organisation,
        name="Broken",
        event_types=["rateplan.usage-threshold"],
    )
    assert client.post(f"/api/webhooks/{broken.pk}/test/").json()["state"] == "invalid"

    # then: only the endpoint that names the reserved type gets it; Apigee's `*` does not
    (notice,) = wait_until(lambda: receiver.at("/ops"), timeout=60, message="hookline.endpoint.invalid at /ops")
    assert notice.json["type"] == "hookline.endpoint.invalid" and notice.json["data"]["webhook"] == broken.pk
    settle(operations, 1)
    assert not Delivery.objects.filter(webhook=webhook, event__type__startswith="hookline.").exists()
    assert Delivery.objects.filter(webhook=webhook).count() == 4
