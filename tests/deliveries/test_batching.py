"""Batched delivery in-process: one POST per batch, one signature, the same batch on a retry, each event queryable."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

import events
from deliveries import messages, runs, wakeup
from deliveries.models import Delivery
from tests.support.receiver import Reply


def first_201_then_200():
    """201 (not a success for OBC) the first time a webhook-id arrives, 200 after."""
    seen: set[str] = set()

    def behaviour(request, count):
        status = 200 if request.webhook_id in seen else 201
        seen.add(request.webhook_id)
        return Reply(status)

    return behaviour


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    published = []
    monkeypatch.setattr(wakeup, "publish", lambda countdown=None: published.append(countdown))
    return published


def test_a_batch_endpoint_gets_an_array_signed_once_and_a_retry_resends_the_same_batch(
    receiver, make_webhook, event_type, organisation, no_broker, admin_client
):
    # given: an OBC-style endpoint (array of elements, only 200 succeeds) that answers 201 first
    event_type("GL_AccountItem_Created")
    webhook, secret = make_webhook(
        receiver.on("/obc", first_201_then_200()),
        contract={
            "preset": "bugyo-cloud",
            "batch": {"max_count": 3, "max_wait": 0.2},
            "policy": {"delays": [0.1], "attempts": 3},
        },
    )
    emitted = [events.emit("GL_AccountItem_Created", {"n": n}, organisation=organisation) for n in range(4)]
    # when: runs until nothing is pending
    runs.run()
    assert receiver.at("/obc")  # a full batch (3 waiting) goes at once, without waiting for max_wait
    for _ in range(20):
        if not Delivery.objects.pending().exists():
            break
        time.sleep(0.1)
        runs.run()
    # then: 4 events = batches of 3 and 1; both first answered 201 (a failure here) and were resent as they were
    got = receiver.at("/obc")
    assert len(got) == 4
    by_id: dict[str, list] = {}
    for request in got:
        by_id.setdefault(request.webhook_id, []).append(request)
        assert request.webhook_id.startswith("batch_")
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        assert StandardWebhook(secret).verify(request.body, request.headers) == request.json
    assert sorted(len(requests) for requests in by_id.values()) == [2, 2]
    for requests in by_id.values():
        assert requests[0].body == requests[1].body  # the same batch, the same events, in the same order
    sizes = sorted(len(requests[0].json) for requests in by_id.values())
    assert sizes == [1, 3]
    elements = [element for requests in by_id.values() for element in requests[0].json]
    # each element's id is its event's GUID (OBC's form), the same in the retry
    assert sorted(element["id"] for element in elements) == sorted(
        messages.element_id(event.id, "uuid-upper") for event in emitted
    )
    assert set(elements[0]) == {"id", "eventkey", "eventvalues", "eventdatetime"}
    # and: each event's delivery is queryable, succeeded, and names its batch
    deliveries = Delivery.objects.filter(webhook=webhook)
    assert {d.status for d in deliveries} == {"succeeded"}
    assert {d.batch_id for d in deliveries} == set(by_id)
    assert all(d.attempt_log.count() == 2 for d in deliveries)
    # and: the inspector and the API show every event of the batch and the contract that applied
    from console.deliveries.serializers import DeliveryDetailSerializer

    big = max(by_id, key=lambda batch_id: len(by_id[batch_id][0].json))
    member = deliveries.filter(batch_id=big).first()
    detail = DeliveryDetailSerializer(member).data
    assert len(detail["batch"]) == 3 and {m["status"] for m in detail["batch"]} == {"succeeded"}
    assert "preset bugyo-cloud" in detail["contract"] and "success 200" in detail["contract"]
    page = admin_client.get(f"/admin/deliveries/delivery/{member.id}/change/").content.decode()
    assert big in page and "3 events in one POST" in page and "preset bugyo-cloud" in page
    assert all(event_id in page for event_id in (m["event"] for m in detail["batch"]))
    # and: a receiver can ask whether Hookline sent the batch with that signature
    from deliveries.tokens import validate_token

    sent = by_id[big][0]
    assert validate_token(big, signature=sent.headers["webhook-signature"]).valid
    assert not validate_token(big, signature="v1,Zm9yZ2Vk").valid
