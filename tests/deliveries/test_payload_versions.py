"""Payload versions: transformers shape (or skip) an event per endpoint version; a broken one fails only its
deliveries."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

import events
from deliveries.exceptions import TransformFailed
from deliveries.messages import BodyCache
from deliveries.models import Delivery
from events import catalog
from events.models import Event
from tests.support.receiver import always
from tests.support.running import deliver

pytestmark = pytest.mark.django_db

USER = {"id": 7, "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}


def make_event(organisation, key: str, payload: dict) -> Event:
    return Event.objects.create(type=key, payload=payload, organisation=organisation, created_at=timezone.now())


@pytest.fixture
def broken_transformers():
    """``broken.thing``: its v1 transformer raises, its v2 one returns a bare string."""
    events.register(
        "broken.thing", versions={"v1": lambda key, payload: payload["missing"], "v2": lambda key, payload: "x"}
    )
    yield
    catalog.unregister("broken.thing")


def test_a_v1_endpoint_gets_the_old_key_and_shape(provisioning_events, organisation):
    # given
    event = make_event(organisation, "user.provisioning", {"action": "add", "user": USER})
    bodies = BodyCache()
    # when
    current = json.loads(bodies.body(event, ""))
    v1 = json.loads(bodies.body(event, "v1"))
    # then
    assert current["type"] == "user.provisioning"
    assert current["data"] == {"action": "add", "user": USER}
    assert v1["type"] == "idprovisioning.ADD"
    assert v1["data"] == {"UserId": "7", "Mail": "ada@example.com", "FirstName": "Ada", "LastName": "Lovelace"}
    assert v1["timestamp"] == current["timestamp"]


def test_a_removed_user_is_idprovisioning_delete_in_v1(provisioning_events, organisation):
    # CloudGear's v1 names a removed user idprovisioning.DELETE (../shared/reference/000)
    event = make_event(organisation, "user.provisioning", {"action": "remove", "user": USER})
    assert json.loads(BodyCache().body(event, "v1"))["type"] == "idprovisioning.DELETE"


def test_a_transformer_may_skip_an_event(provisioning_events, organisation):
    event = make_event(organisation, "user.provisioning", {"action": "suspend", "user": USER})
    assert BodyCache().body(event, "v1") is None


def test_a_version_without_a_transformer_gets_the_current_shape(provisioning_events, organisation):
    event = make_event(organisation, "user.provisioning", {"action": "add", "user": USER})
    assert json.loads(BodyCache().body(event, "v9"))["type"] == "user.provisioning"


def test_the_body_is_serialised_once_per_version(provisioning_events, organisation, monkeypatch):
    # given: a transformer that counts its calls
    calls = []

    def counting(key, version):
        return lambda k, p: calls.append(version) or provisioning_events.provisioning_v1(k, p)

    monkeypatch.setattr("deliveries.messages.transformer_for", counting)
    event = make_event(organisation, "user.provisioning", {"action": "add", "user": USER})
    bodies = BodyCache()
    # when
    first, second = bodies.body(event, "v1"), bodies.body(event, "v1")
    # then
    assert first is second
    assert calls == ["v1"]


@pytest.mark.parametrize(("version", "why"), [("v1", r"KeyError\('missing'\)"), ("v2", "ValueError")])
def test_a_broken_transformer_raises_transform_failed_with_the_reason(broken_transformers, organisation, version, why):
    event = make_event(organisation, "broken.thing", {"n": 1})
    with pytest.raises(TransformFailed, match=f"the {version} transformer of broken.thing failed: .*{why}"):
        BodyCache().body(event, version)


def test_a_broken_transformer_fails_its_delivery_and_the_batch_goes_on(
    broken_transformers, organisation, make_webhook, receiver
):
    # given: one batch with a delivery to a v1 endpoint (broken transformer) and one to a current endpoint
    broken, _ = make_webhook(receiver.on("/v1", always(200)), payload_version="v1")
    fine, _ = make_webhook(receiver.on("/now", always(200)))
    event = make_event(organisation, "broken.thing", {"n": 1})
    now = timezone.now()
    Event.objects.filter(id=event.id).update(dispatched_at=now)  # fanned out already
    for webhook in (broken, fine):
        Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now)
    # when
    retries = deliver()
    # then
    assert retries == []
    failed, sent = Delivery.objects.get(webhook=broken), Delivery.objects.get(webhook=fine)
    assert failed.status == "failed"
    assert "the v1 transformer of broken.thing failed: KeyError('missing')" in failed.last_error
    assert sent.status == "succeeded"
    assert [r.path for r in receiver.requests] == ["/now"]
    broken.refresh_from_db()
    assert broken.state == "new"  # a bug in the site's code is not the receiver's fault
