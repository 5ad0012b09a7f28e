"""000 CloudGear: versioned payloads — v1 (idprovisioning.ADD, flat fields) and v2 (user.provisioning) side by side."""
from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hooks import services
from tests.conftest import PROVISIONING_APP
from tests.support.receiver import always

from .conftest import emit, settle, statuses

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
USER = {"id": 7, "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}


def test_cloudgear_sends_each_event_in_v1_and_v2_shapes(start_worker, receiver, organisation, provisioning_events):
    # given: CloudGear's two receivers of one application, configured as README "Playing a known platform" says
    v2, v2_secret = services.create_webhook(
        url=receiver.on("/v2", statuses(500, 200)), organisation=organisation, name="CloudGear v2",
        event_types=["user.provisioning"], contract={"preset": "cloudgear"},
    )
    v1, v1_secret = services.create_webhook(
        url=receiver.on("/v1", always(200)), organisation=organisation, name="CloudGear v1",
        event_types=["user.provisioning"], payload_version="v1", contract={"preset": "cloudgear"},
    )
    start_worker(hookline={"RETRY_BASE_DELAY": 0.1, "RETRY_JITTER": 0}, extra_env={"TEST_EXTRA_APPS": PROVISIONING_APP})

    # when: a user joins a square
    msg_id = emit("user.provisioning", {"action": "add", "user": USER}, organisation)

    # then: v1 gets idprovisioning.ADD with v1's field names, v2 the current event, both signed, one webhook-id
    settle(v1, 1), settle(v2, 1)
    (old,), new = receiver.at("/v1"), receiver.at("/v2")
    assert StandardWebhook(v1_secret).verify(old.body, old.headers)["type"] == "idprovisioning.ADD"
    assert old.json["data"] == {"UserId": "7", "Mail": "ada@example.com", "FirstName": "Ada", "LastName": "Lovelace"}
    assert [StandardWebhook(v2_secret).verify(r.body, r.headers)["type"] for r in new] == ["user.provisioning"] * 2
    assert new[0].json["data"] == {"action": "add", "user": USER}
    assert {old.webhook_id, *(r.webhook_id for r in new)} == {msg_id}
    # and: a 5xx is retried (the default policy), any 2xx succeeds
    assert [d.status for d in v2.deliveries.all()] == ["succeeded"]
