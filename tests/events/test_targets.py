"""Explicit targets: emit(endpoints=[…]) and POST /api/events/ "endpoints" reach only the named endpoints."""

import pytest

import events
from deliveries import fanout
from deliveries.models import Delivery
from events.models import Event
from hooks.models import Webhook

pytestmark = pytest.mark.django_db


def test_explicit_targets_bypass_subscriptions_but_not_state(event_type, organisation, make_webhook):
    # given
    event_type("usage.threshold")
    named, _ = make_webhook(
        "http://127.0.0.1:9/a", event_types=["other.type"], condition={"path": "never", "exists": True}
    )
    off, _ = make_webhook("http://127.0.0.1:9/b")
    Webhook.objects.filter(id=off.id).update(state="deactivated")
    bystander, _ = make_webhook("http://127.0.0.1:9/c")
    # when
    event = events.emit("usage.threshold", {"percent": 90}, organisation=organisation, endpoints=[named.id, off])
    fanout.fan_out([event.id])
    # then
    assert event.target_endpoints == sorted([named.id, off.id])
    assert list(Delivery.objects.values_list("webhook_id", flat=True)) == [named.id]
    assert bystander.id not in event.target_endpoints


@pytest.mark.parametrize("bad", [[], ["x"], [True], "1"])
def test_malformed_targets_are_refused(event_type, organisation, bad):
    event_type("usage.threshold")
    with pytest.raises(events.UnknownEndpoints):
        events.emit("usage.threshold", {}, organisation=organisation, endpoints=bad)


def test_foreign_and_unknown_targets_are_refused_and_nothing_is_written(
    event_type, organisation, other_organisation, make_webhook
):
    event_type("usage.threshold")
    foreign, _ = make_webhook("http://127.0.0.1:9/a", organisation=other_organisation)
    mine, _ = make_webhook("http://127.0.0.1:9/b")
    with pytest.raises(events.UnknownEndpoints, match=f"Unknown endpoints for this organisation: {foreign.id}, 999999"):
        events.emit("usage.threshold", {}, organisation=organisation, endpoints=[mine.id, foreign.id, 999999])
    assert Event.objects.count() == 0


def test_api_emit_with_endpoints(api, event_type, organisation, other_organisation, make_webhook):
    event_type("usage.threshold")
    mine, _ = make_webhook("http://127.0.0.1:9/a")
    foreign, _ = make_webhook("http://127.0.0.1:9/b", organisation=other_organisation)
    client = api
    ok = client.post("/api/events/", {"type": "usage.threshold", "payload": {}, "endpoints": [mine.id]}, format="json")
    assert ok.status_code == 202, ok.content
    assert ok.json()["target_endpoints"] == [mine.id]
    refused = client.post(
        "/api/events/", {"type": "usage.threshold", "payload": {}, "endpoints": [foreign.id]}, format="json"
    )
    assert refused.status_code == 400
    assert str(foreign.id) in refused.json()["detail"]
