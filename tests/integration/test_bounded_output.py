"""Bounded output: no request body over MAX_REQUEST_BODY_BYTES is sent, a template that could render larger is refused
at save, stored request bodies are capped."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

import events
from deliveries import messages
from deliveries.exceptions import BodyTooLarge
from deliveries.models import Attempt, Delivery
from hooks import contracts, services
from hooks.models import Webhook
from tests.support.overrides import hookline
from tests.support.receiver import always
from tests.support.waiting import wait_until

# The case: an 8 KB template repeating {{data}} 1,000 times, and a 20 KB payload (a 20 MB body).
AMPLIFYING = {"body": {"shape": "template", "template": {"all": "{{data}}" * 1000}}}
PAYLOAD_20_KB = {"text": "x" * 20_000}


# --- refused at save --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_template_that_could_render_past_the_limit_is_refused_at_save(organisation):
    # when / then
    with pytest.raises(ValidationError) as refused:
        services.create_webhook(url="http://127.0.0.1:9/in", organisation=organisation, contract=AMPLIFYING)
    message = " ".join(refused.value.message_dict["contract"])
    assert "MAX_REQUEST_BODY_BYTES" in message and "1048576" in message
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_it_with_a_400_naming_the_contract_and_the_limit(api, public_dns):
    response = api.post("/api/webhooks/", {"url": "https://example.com/in", "contract": AMPLIFYING}, format="json")
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "request_body_too_large" and "MAX_REQUEST_BODY_BYTES" in answer["detail"]
    assert "contract" in answer["fields"]
    assert not Webhook.objects.exists()


def test_the_bound_counts_each_placeholder_at_its_largest():
    with hookline(MAX_PAYLOAD_BYTES=1000):
        template = {"a": "{{data}}", "b": "{{data.x}} and {{id}}", "c": "{{const.k}}", "d": "{{data.y}}"}
        text = len(json.dumps(template, separators=(",", ":")))
        # {{data}} holds {{data.x}} (inside a string: twice) and {{data.y}}; x and y are disjoint parts of it:
        # the heaviest chain is data -> data.x, 1 + 2 payloads. {{id}} in a string: 2 x 64; {{const.k}}: its JSON.
        assert contracts.template_bound(template, {"k": "abc"}) == text + 3 * 1000 + 128 + 5


def test_many_fields_picked_once_fit_and_repeats_do_not():
    fields = {f"f{n}": f"{{{{data.f{n}}}}}" for n in range(50)}
    contracts.validate_contract({"body": {"shape": "template", "template": fields}})  # 50 disjoint parts: one payload
    with pytest.raises(ValidationError, match="MAX_REQUEST_BODY_BYTES"):
        contracts.validate_contract({"body": {"shape": "template", "template": {"a": "{{data}} {{data}} {{data}}"}}})


def test_templates_within_the_bound_and_every_preset_are_accepted():
    contracts.validate_contract({"body": {"shape": "template", "template": {"a": "{{data}}", "b": "{{data.items.0}}"}}})
    for preset in ("bugyo-cloud", "apigee", "standard-webhooks"):
        contracts.validate_contract({"preset": preset})
    contracts.validate_contract({"preset": "store-notice", "body": {"constants": {"token": "t"}}})


# --- refused at send ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_body_that_renders_too_large_raises_body_too_large(event_type, organisation):
    # given: a template stored before the limit (written around the services)
    event_type("invoice.paid")
    event = events.emit("invoice.paid", PAYLOAD_20_KB, organisation=organisation)
    body = contracts.parse(AMPLIFYING).body
    cache = messages.BodyCache()
    # when / then: refused with the size and the limit, and again from the cache
    for _ in range(2):
        with pytest.raises(
            BodyTooLarge, match=r"Not sent: the rendered request body is \d+ bytes; .*MAX_REQUEST_BODY_BYTES"
        ):
            cache.body(event, "", body)


def test_a_body_at_the_limit_passes_and_one_byte_more_does_not():
    with hookline(MAX_REQUEST_BODY_BYTES=300_000):
        assert messages.bounded(b"x" * 300_000)
        with pytest.raises(BodyTooLarge):
            messages.bounded(b"x" * 300_001)


def test_stored_request_bodies_are_capped_like_responses():
    with hookline(MAX_RESPONSE_BYTES=10):
        assert messages.logged_body(b'{"a":"b"}') == ('{"a":"b"}', False)
        text, cut = messages.logged_body("é".encode() * 20)  # 2 bytes each: the cut falls between characters
        assert cut and text == "é" * 5
        text, cut = messages.logged_body(b"a" + "é".encode() * 20)  # ... and inside one: it is dropped
        assert cut and text == "a" + "é" * 4


# --- through a real worker ----------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_fails_the_amplified_delivery_and_sends_nothing(start_worker, receiver, make_webhook, event_type):
    # given: the endpoint (stored as it was before the limit existed) and a healthy neighbour
    event_type("invoice.paid")
    amplified, _ = make_webhook(receiver.on("/amplified", always(200)))
    Webhook.objects.filter(pk=amplified.pk).update(contract=AMPLIFYING)
    healthy, _ = make_webhook(receiver.on("/healthy", always(200)))
    start_worker()
    # when
    with transaction.atomic():
        event = events.emit("invoice.paid", PAYLOAD_20_KB, organisation=amplified.organisation)
    # then: the neighbour got it; the amplified delivery failed with the reason, and its receiver got nothing
    wait_until(
        lambda: not Delivery.objects.pending().exists() and Delivery.objects.count() == 2,
        timeout=60,
        message="both deliveries settled",
    )
    failed = Delivery.objects.get(webhook=amplified)
    assert failed.status == Delivery.Status.FAILED
    assert "MAX_REQUEST_BODY_BYTES" in failed.last_error and "Not sent" in failed.last_error
    assert receiver.at("/amplified") == []
    assert len(receiver.at("/healthy")) == 1
    assert json.loads(receiver.at("/healthy")[0].body)["data"] == PAYLOAD_20_KB
    assert Delivery.objects.get(webhook=healthy).status == Delivery.Status.SUCCEEDED
    assert event.id == failed.event_id


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_the_first_max_response_bytes_of_a_large_request_body(
    start_worker, receiver, make_webhook, event_type
):
    # given: a 200 KB payload, sent whole (under MAX_REQUEST_BODY_BYTES), logged up to MAX_RESPONSE_BYTES (64 KB)
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/big", always(200)))
    start_worker()
    # when
    with transaction.atomic():
        events.emit("invoice.paid", {"text": "y" * 200_000}, organisation=webhook.organisation)
    # then
    wait_until(lambda: Attempt.objects.exists(), timeout=60, message="the attempt")
    attempt = Attempt.objects.get()
    assert len(receiver.at("/big")[0].body) > 200_000
    assert attempt.request_truncated and len(attempt.request_body.encode()) == 64 * 1024
