"""000 CloudGear: each event in its v2 shape and, for v1 receivers, in v1's (idprovisioning.ADD / .DELETE,
squareprovisioning.*, flat fields) under the same webhook-id; v2-only types never reach a v1 receiver; the usage
request every day at 04:00 JST. Configured by the published recipes, as written."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from events import scheduling
from tests.support.waiting import wait_until

from .conftest import CLOUDGEAR_APP, emit, settle

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
USER = {"id": 7, "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}
V1_USER = {"UserId": "7", "Mail": "ada@example.com", "FirstName": "Ada", "LastName": "Lovelace"}


def test_cloudgear_sends_v1_and_v2_side_by_side_and_keeps_v2_only_types_from_v1(
    start_worker, receiver, organisation, cloudgear_events, recipe, shell
):
    # given: the event types and the two endpoints of one CloudGear application, as the recipes publish them
    assert {"user.provisioning", "user.role-assign", "payments.request-usage-record"} <= set(cloudgear_events)
    endpoints = recipe("000-cloudgear-endpoints")
    v1, v1_secret, v2, v2_secret = (endpoints[name] for name in ("v1", "v1_secret", "v2", "v2_secret"))
    start_worker(extra_env={"TEST_EXTRA_APPS": CLOUDGEAR_APP})  # the worker runs the published events recipe too

    # when: a user joins and leaves a square, a subscription is created, and two v2-only events happen
    emitted = {
        "join": emit("user.provisioning", {"action": "add", "user": USER}, organisation),
        "leave": emit("user.provisioning", {"action": "delete", "user": USER}, organisation),
        "subscribe": emit("subscription.create", {"square_id": "sq-1", "plan": "basic"}, organisation),
        "role": emit("user.role-assign", {"user": USER, "role": "contract-admin"}, organisation),
        "billing": emit("payments.change-billing-period", {"subscription": "sq-1"}, organisation),
    }

    # then: v2 gets all five in the current shape; v1 only the three v1 has, in v1's names and fields
    settle(v2, 5), settle(v1, 3)
    got_v1 = {r.webhook_id: r for r in receiver.at(urlsplit(v1.url).path)}
    got_v2 = {r.webhook_id: r for r in receiver.at(urlsplit(v2.url).path)}
    v1_types = {msg: StandardWebhook(v1_secret).verify(r.body, r.headers)["type"] for msg, r in got_v1.items()}
    assert v1_types == {
        emitted["join"]: "idprovisioning.ADD",
        emitted["leave"]: "idprovisioning.DELETE",
        emitted["subscribe"]: "squareprovisioning.ADD",
    }
    assert got_v1[emitted["join"]].json["data"] == V1_USER == got_v1[emitted["leave"]].json["data"]
    assert {StandardWebhook(v2_secret).verify(r.body, r.headers)["type"] for r in got_v2.values()} == {
        "user.provisioning",
        "subscription.create",
        "user.role-assign",
        "payments.change-billing-period",
    }
    assert got_v2[emitted["join"]].json["data"] == {"action": "add", "user": USER}
    assert set(got_v2) == set(emitted.values())  # one webhook-id per event, the same on both shapes
    # and: the v2-only types never even became deliveries to v1
    assert not v1.deliveries.filter(event__type__in=["user.role-assign", "payments.change-billing-period"]).exists()

    # when: the daily usage request is scheduled as the recipe says, and its time comes
    (schedule,) = shell("000-cloudgear-usage-schedule")
    due = datetime.fromisoformat(schedule["next_run_at"].replace("Z", "+00:00"))
    assert due.astimezone(ZoneInfo("Asia/Tokyo")).time().isoformat() == "04:00:00"
    assert due > datetime.now(UTC)
    (usage_id,) = scheduling.run_due(now=due).emitted

    # then: it reaches the v2 receiver only
    wait_until(
        lambda: usage_id in {r.webhook_id for r in receiver.at(urlsplit(v2.url).path)},
        timeout=60,
        message="the usage request at v2",
    )
    assert not v1.deliveries.filter(event_id=usage_id).exists()
    assert v2.deliveries.get(event_id=usage_id).event.type == "payments.request-usage-record"
