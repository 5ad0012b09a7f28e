"""The delivery-log API: list and filters, the request/response inspector, redelivery, token validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import Delivery
from hooks.models import Webhook

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_dns")]


@pytest.fixture
def webhook(make_webhook):
    return make_webhook("https://joe:hunter2@example.com/hook")[0]


def test_list_shows_deliveries_newest_first_with_a_count(api, webhook, make_delivery):
    # given
    older = make_delivery(
        webhook, status="failed", attempts=[500, 500], created_at=timezone.now() - timedelta(minutes=5)
    )
    newer = make_delivery(webhook, status="succeeded", attempts=[200])

    # when
    body = api.get("/api/deliveries/").json()

    # then
    assert body["count"] == 2
    assert [d["id"] for d in body["results"]] == [newer.id, older.id]
    first = body["results"][0]
    assert (first["webhook"], first["event"], first["event_type"], first["status"]) == (
        webhook.id,
        newer.event_id,
        "invoice.paid",
        "succeeded",
    )
    assert "attempt_log" not in first


def test_list_filters(api, webhook, make_webhook, make_delivery):
    # given
    other, _ = make_webhook("https://example.com/other")
    failed = make_delivery(webhook, status="failed", attempts=[500])
    paid = make_delivery(other, status="succeeded", attempts=[200], event_type="invoice.paid")
    made = make_delivery(other, status="succeeded", attempts=[200], event_type="invoice.made")
    Delivery.objects.filter(id=failed.id).update(created_at=timezone.now() - timedelta(days=2))
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    def ids(query):
        response = api.get("/api/deliveries/", query)
        assert response.status_code == 200, response.json()
        return sorted(d["id"] for d in response.json()["results"])

    # then
    assert ids({"webhook": webhook.id}) == [failed.id]
    assert ids({"status": "succeeded"}) == sorted([paid.id, made.id])
    assert ids({"event_type": "invoice.made"}) == [made.id]
    assert ids({"event": paid.event_id}) == [paid.id]
    assert ids({"created_before": yesterday}) == [failed.id]
    assert ids({"created_after": yesterday}) == sorted([paid.id, made.id])


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "webhook=abc",
        "webhook=1.5",
        "webhook=99999999999999999999999",
        "created_after=soon",
        "created_after=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_list_rejects_bad_filters(api, query):
    # when
    response = api.get(f"/api/deliveries/?{query}")

    # then
    assert response.status_code == 400 and response.json()["fields"]


def test_time_filters_accept_any_iso_offset(api, webhook, make_delivery):
    # given
    delivery = make_delivery(webhook)

    # when: PostgreSQL itself refuses offsets beyond ±15:59
    response = api.get("/api/deliveries/", {"created_after": "2000-01-01T00:00:00-22:06"})

    # then
    assert response.status_code == 200 and response.json()["results"][0]["id"] == delivery.id


def test_detail_shows_every_attempt_request_and_response_without_secrets(api, webhook, make_delivery):
    # given
    delivery = make_delivery(webhook, status="failed", attempts=[500, 503])

    # when
    body = api.get(f"/api/deliveries/{delivery.id}/").json()

    # then
    assert body["payload"] == {"invoice": 1}
    assert [a["number"] for a in body["attempt_log"]] == [1, 2]
    assert [a["response_status"] for a in body["attempt_log"]] == [500, 503]
    attempt = body["attempt_log"][0]
    assert attempt["request_url"] == "https://joe:***@example.com/hook"
    assert attempt["request_headers"]["webhook-id"] == delivery.event_id
    assert {"request_body", "response_body", "response_headers", "duration_ms", "error", "next_retry_at"} <= set(
        attempt
    )
    assert "hunter2" not in str(body)


def test_unknown_delivery_is_404(api):
    # when
    response = api.get("/api/deliveries/424242/")

    # then
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_redeliver_queues_the_delivery_again_with_a_fresh_budget(api, webhook, make_delivery):
    # given
    delivery = make_delivery(webhook, status="failed", attempts=[500, 500])

    # when
    response = api.post(f"/api/deliveries/{delivery.id}/redeliver/")

    # then
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["attempts"], response.json()["total_attempts"]) == (
        "pending",
        0,
        2,
    )
    assert len(response.json()["attempt_log"]) == 2


def test_redeliver_refuses_while_the_endpoint_is_deactivated(api, webhook, make_delivery):
    # given
    delivery = make_delivery(webhook, status="failed", attempts=[500])
    Webhook.objects.filter(id=webhook.id).update(state=Webhook.State.DEACTIVATED)

    # when
    response = api.post(f"/api/deliveries/{delivery.id}/redeliver/")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "endpoint_not_receiving"
    assert "deactivated" in response.json()["detail"]


def test_deliveries_are_read_only(api, webhook, make_delivery):
    # given
    delivery = make_delivery(webhook, status="failed", attempts=[500])

    # when
    responses = [api.delete(f"/api/deliveries/{delivery.id}/"), api.post("/api/deliveries/", {}, format="json")]

    # then
    assert [r.status_code for r in responses] == [405, 405]
    assert responses[0].json()["code"] == "method_not_allowed"


# --- token validation -----------------------------------------------------------------------


def test_validate_token_recognises_a_signature_hookline_sent(api, webhook, make_delivery):
    # given
    delivery = make_delivery(webhook, status="succeeded", attempts=[200])

    # when
    good = api.post("/api/tokens/validate/", {"webhook_id": delivery.event_id, "signature": "v1,sig1"}, format="json")
    forged = api.post(
        "/api/tokens/validate/", {"webhook_id": delivery.event_id, "signature": "v1,forged"}, format="json"
    )

    # then
    assert good.status_code == 200
    assert good.json() == {"valid": True, "webhook": webhook.id, "event_type": "invoice.paid"}
    assert forged.json() == {"valid": False, "webhook": None, "event_type": ""}


def test_validate_token_accepts_the_shared_secret(api, make_webhook, make_delivery):
    # given
    webhook, secret = make_webhook("https://example.com/obc", shared_secret_header="X-OBC-Secret")
    delivery = make_delivery(webhook, status="succeeded", attempts=[200])

    # when
    response = api.post("/api/tokens/validate/", {"webhook_id": delivery.event_id, "token": secret}, format="json")

    # then
    assert response.json()["valid"] is True


@pytest.mark.parametrize("body, field", [({"signature": "v1,x"}, "webhook_id"), ({"webhook_id": "msg_1"}, None)])
def test_validate_token_needs_an_id_and_a_signature_or_token(api, body, field):
    # when
    response = api.post("/api/tokens/validate/", body, format="json")

    # then
    assert response.status_code == 400
    if field:
        assert field in response.json()["fields"]
    else:
        assert response.json()["detail"] == "Give the signature (or the shared-secret token) you received."
