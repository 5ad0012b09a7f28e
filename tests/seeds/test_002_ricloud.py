"""002 ricloud: a webhook config is tested as soon as it is created or its URL changes; the test sets its state
(new → valid / invalid); the secret generated on creation signs; deactivated configs are listed only when asked for."""
from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from events.models import Event
from hooks.models import Webhook
from tests.support.receiver import always
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def state_of(webhook_id: int, client) -> str:
    return client.get(f"/api/webhooks/{webhook_id}/").json()["state"]


def test_ricloud_tests_a_config_on_create_and_on_url_change(worker, receiver, member, client_for):
    # given
    client = client_for(member)

    # when: POST /configs/webhook — a config is created with test_on_save, as ricloud does
    created = client.post("/api/webhooks/", {"url": receiver.on("/hooks", always(200)),
                                             "contract": {"preset": "ricloud"}, "test_on_save": True}, format="json")
    assert created.status_code == 201, created.content
    config, secret = created.json()["id"], created.json()["secret"]
    assert created.json()["state"] == "new"

    # then: the test arrives without anyone pressing "test", signed with the generated secret, and sets valid
    wait_until(lambda: state_of(config, client) == "valid", timeout=60, message="valid after the create test")
    (ping,) = receiver.at("/hooks")
    assert StandardWebhook(secret).verify(ping.body, ping.headers)["type"] == "webhook.test"

    # when: the URL is updated to a receiver that is not ready yet
    moved = client.patch(f"/api/webhooks/{config}/", {"url": receiver.on("/not-ready", always(500))}, format="json")
    assert moved.json()["state"] == "new"

    # then: the background test fails and the config is invalid (and Hookline says so)
    wait_until(lambda: state_of(config, client) == "invalid", timeout=60, message="invalid after the URL change")
    assert len(receiver.at("/not-ready")) == 1
    assert Event.objects.filter(type="hookline.endpoint.invalid").exists()
    # and: a state may be set only to new or deactivated; deactivated configs are hidden unless asked for
    assert client.patch(f"/api/webhooks/{config}/", {"state": "valid"}, format="json").status_code == 400
    assert client.patch(f"/api/webhooks/{config}/", {"state": "deactivated"}, format="json").status_code == 200
    assert config not in [w["id"] for w in client.get("/api/webhooks/").json()["results"]]
    assert [w["id"] for w in client.get("/api/webhooks/?state=deactivated").json()["results"]] == [config]
    assert Webhook.objects.get(pk=config).test_on_save
