"""The README's curl walkthrough as a test: the API against real PostgreSQL, Redis, a worker and a receiver."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.support.receiver import always
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_create_emit_watch_redeliver_rotate_delete(api, worker, receiver, event_type):
    # given
    event_type("invoice.paid")

    # when: an endpoint is created and an event emitted over HTTP
    created = api.post(
        "/api/webhooks/", {"url": receiver.on("/hook", always(200)), "event_types": ["invoice.*"]}, format="json"
    ).json()
    emitted = api.post("/api/events/", {"type": "invoice.paid", "payload": {"invoice": 42}}, format="json").json()

    # then: the delivery succeeds and its attempt is in the log
    def delivered():
        results = api.get("/api/deliveries/", {"event": emitted["id"]}).json()["results"]
        return results if results and results[0]["status"] == "succeeded" else None

    delivery = wait_until(delivered, timeout=60, message="the delivery to succeed")[0]
    detail = api.get(f"/api/deliveries/{delivery['id']}/").json()
    assert [a["response_status"] for a in detail["attempt_log"]] == [200]
    first = receiver.at("/hook")[0]
    assert StandardWebhook(created["secret"]).verify(first.body, first.headers)["data"] == {"invoice": 42}
    assert api.get(f"/api/webhooks/{created['id']}/").json()["state"] == "valid"

    # when: the secret is rotated and the delivery sent again
    rotated = api.post(f"/api/webhooks/{created['id']}/rotate-secret/").json()
    assert api.post(f"/api/deliveries/{delivery['id']}/redeliver/").status_code == 202

    # then: the same webhook-id arrives, signed with the new secret and the old one
    second = wait_until(lambda: receiver.at("/hook")[1:], timeout=60, message="the redelivery")[0]
    assert second.webhook_id == emitted["id"]
    StandardWebhook(rotated["secret"]).verify(second.body, second.headers)
    StandardWebhook(created["secret"]).verify(second.body, second.headers)
    wait_until(
        lambda: len(api.get(f"/api/deliveries/{delivery['id']}/").json()["attempt_log"]) == 2,
        timeout=30,
        message="the second attempt in the log",
    )

    # when / then: the endpoint is deleted
    assert api.delete(f"/api/webhooks/{created['id']}/?force=false").status_code == 204
    assert api.get(f"/api/webhooks/{created['id']}/").status_code == 404
