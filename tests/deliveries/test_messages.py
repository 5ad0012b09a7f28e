"""Tests for deliveries.messages: signature schemes, static headers, Basic auth, the masked log copy, payload
versions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest
import requests
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from deliveries.messages import build_request, envelope, logged_headers
from events.models import Event
from hooks import services
from tests.support.overrides import hookline

pytestmark = pytest.mark.django_db


def make_event(organisation, key: str = "invoice.paid", payload: dict | None = None) -> Event:
    return Event.objects.create(
        type=key, payload=payload or {"invoice": 1}, organisation=organisation, created_at=timezone.now()
    )


def signed(webhook, event):
    body = envelope(event, event.type, event.payload)
    return build_request(event, webhook, body), body


def test_standard_signature_verifies_with_standardwebhooks_and_svix(make_webhook, organisation):
    # given
    webhook, secret = make_webhook("http://127.0.0.1:9/in")
    event = make_event(organisation)
    # when
    request, body = signed(webhook, event)
    # then
    assert StandardWebhook(secret).verify(body, request.headers)["data"] == {"invoice": 1}
    SvixWebhook(secret).verify(body, request.headers)
    assert request.headers["webhook-id"] == event.id
    assert "X-Hub-Signature-256" not in request.headers


def test_github_signature_is_the_hex_hmac_of_the_body_keyed_with_the_secret(make_webhook, organisation):
    # given
    webhook, secret = make_webhook("http://127.0.0.1:9/in", github_signature=True)
    # when
    request, body = signed(webhook, make_event(organisation))
    # then
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == expected
    assert "webhook-signature" in request.headers  # Standard Webhooks stays on unless switched off


def test_standard_signature_can_be_switched_off(make_webhook, organisation):
    webhook, _ = make_webhook("http://127.0.0.1:9/in", standard_signature=False, github_signature=True)
    request, _ = signed(webhook, make_event(organisation))
    assert "webhook-signature" not in request.headers
    assert request.headers["webhook-id"]  # still the receiver's idempotency key


def test_shared_secret_header_carries_the_plain_secret_and_is_masked_in_the_log(make_webhook, organisation):
    # given
    webhook, secret = make_webhook("http://127.0.0.1:9/in", shared_secret_header="X-OBC-Secret")
    # when
    request, _ = signed(webhook, make_event(organisation))
    # then
    assert request.headers["X-OBC-Secret"] == secret
    assert logged_headers(request, webhook)["X-OBC-Secret"] == "***"


def test_an_innocently_named_shared_secret_header_is_masked_too(make_webhook, organisation):
    webhook, secret = make_webhook("http://127.0.0.1:9/in", shared_secret_header="X-Partner-Key")
    request, _ = signed(webhook, make_event(organisation))
    assert request.headers["X-Partner-Key"] == secret
    assert secret not in json.dumps(logged_headers(request, webhook))


def test_static_headers_are_sent_and_sensitive_ones_masked_in_the_log(make_webhook, organisation):
    # given
    webhook, _ = make_webhook(
        "http://127.0.0.1:9/in", headers={"X-Tenant": "acme", "X-Api-Key": "k-123", "User-Agent": "Acme/1"}
    )
    # when
    request, _ = signed(webhook, make_event(organisation))
    logged = logged_headers(request, webhook)
    # then
    assert request.headers["X-Tenant"] == "acme"
    assert request.headers["X-Api-Key"] == "k-123"
    assert request.headers["User-Agent"] == "Acme/1"
    assert logged["X-Tenant"] == "acme"
    assert logged["X-Api-Key"] == "***"


def test_basic_auth_comes_from_the_url_and_is_masked(make_webhook, organisation):
    # given
    webhook, _ = make_webhook("http://ada:s3cr%40t@127.0.0.1:9/in")
    # when
    request, _ = signed(webhook, make_event(organisation))
    logged = logged_headers(request, webhook)
    # then
    assert request.url == "http://127.0.0.1:9/in"
    assert request.auth == ("ada", "s3cr@t")
    assert logged["authorization"] == "Basic *** (ada)"
    assert "s3cr@t" not in json.dumps(logged)
    assert webhook.masked_url == "http://ada:***@127.0.0.1:9/in"


def test_during_rotation_two_signatures_each_verify_with_one_secret(make_webhook, organisation):
    # given
    webhook, old = make_webhook("http://127.0.0.1:9/in", github_signature=True, shared_secret_header="X-OBC-Secret")
    new = services.rotate_secret(webhook)
    # when
    request, body = signed(webhook, make_event(organisation))
    # then: new first, then old, space-separated
    first, second = request.headers["webhook-signature"].split(" ")
    for signature, secret in ((first, new), (second, old)):
        StandardWebhook(secret).verify(body, {**request.headers, "webhook-signature": signature})
    # single-valued schemes carry the new secret at once
    assert request.headers["X-OBC-Secret"] == new
    assert (
        request.headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(new.encode(), body, hashlib.sha256).hexdigest()
    )


def test_after_the_grace_period_only_the_new_secret_signs(make_webhook, organisation):
    # given
    webhook, old = make_webhook("http://127.0.0.1:9/in")
    with hookline(SECRET_ROTATION_GRACE=0):
        new = services.rotate_secret(webhook)
    # when
    request, body = signed(webhook, make_event(organisation))
    # then
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    StandardWebhook(new).verify(body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        StandardWebhook(old).verify(body, request.headers)


def test_the_endpoint_proxy_overrides_the_global_one(make_webhook, organisation):
    # given
    direct, _ = make_webhook("http://127.0.0.1:9/a")
    own, _ = make_webhook("http://127.0.0.1:9/b", proxy_url="http://127.0.0.1:3129")
    event = make_event(organisation)
    # when
    with hookline(PROXY="http://egress.internal:3128"):
        requests = [signed(webhook, event)[0] for webhook in (direct, own)]
    # then
    assert [request.proxy for request in requests] == ["http://egress.internal:3128", "http://127.0.0.1:3129"]


def test_basic_auth_header_value_is_standard(make_webhook, organisation):
    # the value requests builds from OutgoingRequest.auth, as a receiver decodes it
    webhook, _ = make_webhook("http://ada:pw@127.0.0.1:9/in")
    request, _ = signed(webhook, make_event(organisation))
    prepared = requests.Request("POST", request.url, auth=request.auth).prepare()
    assert prepared.headers["Authorization"] == "Basic " + base64.b64encode(b"ada:pw").decode()


def test_an_endpoint_may_send_its_own_user_agent(make_webhook, organisation, admin_client):
    # given: the default, and one endpoint that names its own (as a flat API field would not: it is a contract key)
    default, _ = make_webhook("http://127.0.0.1:9/a")
    own, _ = make_webhook("http://127.0.0.1:9/b", contract={"request": {"user_agent": " PartnerBridge/2.1 "}})
    event = make_event(organisation)
    # when
    agents = [signed(webhook, event)[0].headers["user-agent"] for webhook in (default, own)]
    # then
    assert agents[0].startswith("Hookline/") and agents[1] == "PartnerBridge/2.1"
    # and it is refused when it could break the header, and offered on the admin form with its default
    with pytest.raises(services.ValidationError, match=re.escape("request.user_agent")):
        services.update_webhook(own, contract={"request": {"user_agent": "a\r\nX-Injected: 1"}})
    page = admin_client.get(f"/admin/hooks/webhook/{own.pk}/change/").content.decode()
    assert (
        'name="request_user_agent"' in page
        and 'value="PartnerBridge/2.1"' in page
        and "Default: Hookline/(the installed version)" in page
    )
