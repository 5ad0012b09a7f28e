"""002 ricloud: a webhook config is tested as soon as it is created or its URL changes, and by the test action;
the test sets its state (new → valid / invalid); the secret generated on creation signs; a receiver's 410 is a
failure like any other (only the owning organisation deactivates); state may be set only to new or deactivated;
deactivated configs are listed only when asked for. Configured by the published recipes, as written."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from deliveries.models import Notification
from hooks.models import Webhook
from tests.support.receiver import Reply, always
from tests.support.waiting import wait_until

from .conftest import emit, settle
from .recipes import path_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RECEIVER = path_of("https://www.mywebhook.example/webhooks/")
UPDATED = path_of("https://www.myupdatedwebhook.example/webhooks/")


def gone_twice_then_ok():
    """Tests pass; each event is answered 410 Gone twice, then 200."""
    seen: dict[str, int] = {}

    def behaviour(request, count: int) -> Reply:
        if request.json["type"] == "webhook.test":
            return Reply(200)
        seen[request.webhook_id] = seen.get(request.webhook_id, 0) + 1
        return Reply(200 if seen[request.webhook_id] > 2 else 410)

    return behaviour


def test_ricloud_tests_a_config_on_create_and_url_change_and_only_its_owner_deactivates_it(
    start_worker, receiver, member, client_for, event_type, organisation, shell
):
    # given
    event_type("data.ready")
    client = client_for(member)
    receiver.on(RECEIVER, gone_twice_then_ok())
    start_worker()

    # when: POST /configs/webhook — the recipe creates the config
    (created,) = shell("002-ricloud-create")
    config, secret = str(created["id"]), created["secret"]
    assert created["state"] == "new" and created["test_on_save"] and "preset ricloud" in created["contract_summary"]

    # then: the test arrives without anyone pressing "test", signed with the generated secret, and sets valid
    webhook = Webhook.objects.get(pk=config)
    wait_until(
        lambda: Webhook.objects.get(pk=config).state == "valid", timeout=60, message="valid after the create test"
    )
    (ping,) = receiver.at(RECEIVER)
    assert StandardWebhook(secret).verify(ping.body, ping.headers)["type"] == "webhook.test"

    # when: a real event is answered 410 Gone (the retry delays scaled down through the same contract keys; a
    # PATCH of `contract` replaces every option, so the stored contract is sent back with its delays changed)
    stored = webhook.contract
    scaled = client.patch(
        f"/api/webhooks/{config}/",
        {
            "contract": {
                **stored,
                "policy": {**stored.get("policy", {}), "base_delay": 0.2, "max_delay": 0.5, "jitter": 0},
            }
        },
        format="json",
    )
    assert scaled.status_code == 200, scaled.content
    msg_id = emit("data.ready", {"task": "t-1"}, organisation)

    # then: the 410s are retried like any failure, the config is never deactivated by its receiver
    (delivery,) = [d for d in settle(webhook, 2) if d.event_id == msg_id]  # the create test's and the event's
    events = [r for r in receiver.at(RECEIVER) if r.webhook_id == msg_id]
    assert [StandardWebhook(secret).verify(r.body, r.headers)["type"] for r in events] == ["data.ready"] * 3
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert Webhook.objects.get(pk=config).state == "valid"

    # when: the URL is updated to a receiver that is not ready yet (it answers 410 too)
    receiver.on(UPDATED, always(410))
    (moved,) = shell("002-ricloud-update", ID=config)

    # then: the config is new, the background test fails, and it is invalid (not deactivated)
    assert moved["state"] == "new"
    wait_until(
        lambda: Webhook.objects.get(pk=config).state == "invalid", timeout=60, message="invalid after the URL change"
    )
    assert len(receiver.at(UPDATED)) == 1
    # (no endpoint names hookline.endpoint.invalid here: the alert is recorded, no event is addressed to nobody)
    assert Notification.objects.filter(kind="disabled", webhook_id=int(config)).exists()

    # when: the receiver is ready and the config is tested again
    receiver.on(UPDATED, always(200))
    (tested,) = shell("002-ricloud-test", ID=config)

    # then
    assert (tested["succeeded"], tested["state"]) == (True, "valid")

    # and: state may be set only to new or deactivated; deactivated configs are hidden unless asked for
    assert client.patch(f"/api/webhooks/{config}/", {"state": "valid"}, format="json").status_code == 400
    retired, listed = shell("002-ricloud-retire", ID=config)
    assert retired["state"] == "deactivated"
    assert [w["id"] for w in listed["results"]] == [int(config)]
    assert int(config) not in [w["id"] for w in client.get("/api/webhooks/").json()["results"]]
    assert Webhook.objects.get(pk=config).delivery_contract.policy.test_on_save
