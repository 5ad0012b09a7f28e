"""Endpoint options end to end: real worker, real loopback receivers and proxies, checked on what arrived."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook

import events
from deliveries.models import Attempt, Delivery
from deliveries.tokens import validate_token
from hooks import services, signing
from hooks.models import Webhook
from tests.conftest import PROVISIONING_APP
from tests.support.proxy import ForwardProxy
from tests.support.receiver import always, sequence
from tests.support.waiting import wait_until
from tests.support.workers import database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {"RETRY_BASE_DELAY": 0.2, "RETRY_MAX_DELAY": 1, "RETRY_JITTER": 0}
PASSWORD = "pa55-w0rd-xyzzy"
USER = {"id": 7, "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}


def emit(key: str, payload: dict, organisation) -> str:
    with transaction.atomic():
        return events.emit(key, payload, organisation=organisation).id


def settled(count: int) -> bool:
    """``count`` deliveries exist and none is pending any more."""
    return Delivery.objects.count() == count and not Delivery.objects.pending().exists()


def dump_database() -> str:
    """Every stored row as text: pg_dump of the test database, or each row cast to text without it."""
    if shutil.which("pg_dump"):
        return subprocess.run(
            ["pg_dump", "--no-owner", "--dbname", database_url()],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = [name for (name,) in cursor.fetchall()]
        rows = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            rows += [row for (row,) in cursor.fetchall()]
    return "\n".join(rows)


def only(signature: str, headers: dict[str, str]) -> dict[str, str]:
    """The received headers with ``webhook-signature`` narrowed to one signature."""
    return {**headers, "webhook-signature": signature}


# --- signature schemes, static headers, Basic auth, secrets at rest ------------------------------------------------


def test_every_signature_scheme_and_header_option_arrives_as_configured(worker, receiver, make_webhook, event_type):
    # given: one endpoint per option
    event_type("invoice.paid")
    standard, standard_secret = make_webhook(receiver.on("/standard", always(200)))
    _github, github_secret = make_webhook(receiver.on("/github", always(200)), github_signature=True)
    shared, shared_secret = make_webhook(receiver.on("/shared", always(200)), shared_secret_header="X-OBC-Secret")
    custom, _ = make_webhook(receiver.on("/custom", always(200)), headers={"X-Tenant": "acme", "X-Api-Key": "k-42"})
    basic_url = receiver.on("/basic", always(200)).replace("http://", f"http://ada:{PASSWORD}@")
    basic, basic_secret = make_webhook(basic_url)

    # when
    msg_id = emit("invoice.paid", {"invoice": 42}, standard.organisation)

    # then: the Standard Webhooks signature verifies with both published verifiers
    wait_until(lambda: settled(5) and len(receiver.requests) == 5, timeout=60, message="5 deliveries")
    got = {request.path: request for request in receiver.requests}
    for path, secret in (("/standard", standard_secret), ("/github", github_secret), ("/basic", basic_secret)):
        request = got[path]
        assert request.webhook_id == msg_id
        assert StandardWebhook(secret).verify(request.body, request.headers)["data"] == {"invoice": 42}
        SvixWebhook(secret).verify(request.body, request.headers)
    # GitHub's header, recomputed here: hex HMAC-SHA256 of the raw body, keyed with the secret string
    expected = "sha256=" + hmac.new(github_secret.encode(), got["/github"].body, hashlib.sha256).hexdigest()
    assert got["/github"].headers["x-hub-signature-256"] == expected
    assert "x-hub-signature-256" not in got["/standard"].headers
    # the shared secret, in clear, in the header the endpoint named
    assert got["/shared"].headers["x-obc-secret"] == shared_secret
    # static headers
    assert (got["/custom"].headers["x-tenant"], got["/custom"].headers["x-api-key"]) == ("acme", "k-42")
    # Basic auth taken from the URL
    assert got["/basic"].headers["authorization"] == "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    assert "authorization" not in got["/standard"].headers

    # and what operators see is masked
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    attempt = {a.delivery.webhook_id: a for a in Attempt.objects.select_related("delivery")}
    assert attempt[basic.id].request_url == f"http://ada:***@127.0.0.1:{receiver.server.server_address[1]}/basic"
    assert attempt[basic.id].request_headers["authorization"] == "Basic *** (ada)"
    assert attempt[shared.id].request_headers["X-OBC-Secret"] == "***"
    assert attempt[custom.id].request_headers["X-Api-Key"] == "***"
    assert attempt[custom.id].request_headers["X-Tenant"] == "acme"
    assert Webhook.objects.get(id=basic.id).masked_url.startswith("http://ada:***@127.0.0.1:")

    # and no password or secret is stored, or logged, in clear
    dump = dump_database()
    assert basic.url in dump  # the dump is real: it holds the endpoint's (credential-free) URL
    secrets = [standard_secret, github_secret, shared_secret, basic_secret]
    for needle in [PASSWORD, *secrets, *(secret.removeprefix(signing.SECRET_PREFIX) for secret in secrets)]:
        assert needle not in dump
        assert needle not in worker.log()


# --- secret rotation ------------------------------------------------------------------------------------------


def test_both_secrets_sign_during_the_grace_period_and_only_the_new_one_after(
    worker, receiver, make_webhook, event_type
):
    # given
    event_type("invoice.paid")
    webhook, old = make_webhook(receiver.on("/r", always(200)))
    new = services.rotate_secret(webhook)

    # when: within the grace period
    emit("invoice.paid", {"invoice": 1}, webhook.organisation)

    # then: two space-separated signatures, the new one first, each valid with its own secret
    during = wait_until(lambda: receiver.at("/r"), timeout=60, message="the first delivery")[0]
    signatures = during.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    StandardWebhook(new).verify(during.body, only(signatures[0], during.headers))
    StandardWebhook(old).verify(during.body, only(signatures[1], during.headers))
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(old).verify(during.body, only(signatures[0], during.headers))
    SvixWebhook(old).verify(during.body, during.headers)  # a receiver still on the old secret
    SvixWebhook(new).verify(during.body, during.headers)  # and one already switched

    # when: the grace period is over
    Webhook.objects.filter(id=webhook.id).update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    emit("invoice.paid", {"invoice": 2}, webhook.organisation)

    # then: only the new secret signs
    after = wait_until(lambda: receiver.at("/r")[1:], timeout=60, message="the second delivery")[0]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    StandardWebhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(old).verify(after.body, after.headers)


# --- payload versions -----------------------------------------------------------------------------------------


def test_one_domain_event_reaches_a_current_and_a_v1_endpoint_in_their_own_shapes(
    start_worker, receiver, make_webhook, provisioning_events
):
    # given: both endpoints subscribe to the current key; one of them reads the v1 shape
    current, current_secret = make_webhook(receiver.on("/v2", always(200)), event_types=["user.provisioning"])
    legacy, legacy_secret = make_webhook(receiver.on("/v1", always(200)), event_types=["user.*"], payload_version="v1")
    start_worker(extra_env={"TEST_EXTRA_APPS": PROVISIONING_APP})

    # when
    msg_id = emit("user.provisioning", {"action": "add", "user": USER}, current.organisation)

    # then
    wait_until(lambda: settled(2), timeout=60, message="2 deliveries")
    (v2,), (v1,) = receiver.at("/v2"), receiver.at("/v1")
    assert StandardWebhook(current_secret).verify(v2.body, v2.headers) == {
        "type": "user.provisioning",
        "timestamp": v2.json["timestamp"],
        "data": {"action": "add", "user": USER},
    }
    assert StandardWebhook(legacy_secret).verify(v1.body, v1.headers) == {
        "type": "idprovisioning.ADD",
        "timestamp": v2.json["timestamp"],
        "data": {"UserId": "7", "Mail": "ada@example.com", "FirstName": "Ada", "LastName": "Lovelace"},
    }
    assert v1.webhook_id == v2.webhook_id == msg_id
    assert Attempt.objects.get(delivery__webhook=legacy).request_body == v1.body.decode()

    # when: an event v1 has no shape for
    skipped = emit("user.provisioning", {"action": "suspend", "user": USER}, current.organisation)

    # then: the current endpoint gets it, the v1 delivery is cancelled without a request
    wait_until(lambda: settled(4), timeout=60, message="4 deliveries")
    assert [r.json["data"]["action"] for r in receiver.at("/v2")] == ["add", "suspend"]
    assert len(receiver.at("/v1")) == 1
    cancelled = Delivery.objects.get(event_id=skipped, webhook=legacy)
    assert (cancelled.status, cancelled.last_error) == ("cancelled", "skipped by payload version v1")
    assert not cancelled.attempt_log.exists()
    legacy.refresh_from_db()
    assert legacy.state == "valid"


# --- outbound proxy -------------------------------------------------------------------------------------------


def test_deliveries_go_through_the_global_proxy_unless_the_endpoint_names_its_own(
    start_worker, receiver, make_webhook, event_type
):
    # given
    event_type("invoice.paid")
    with ForwardProxy() as egress, ForwardProxy() as own:
        via_global, global_secret = make_webhook(receiver.on("/global", always(200)))
        _via_own, _ = make_webhook(receiver.on("/own", always(200)), proxy_url=own.url)
        start_worker(hookline={"PROXY": egress.url})

        # when
        msg_id = emit("invoice.paid", {"invoice": 1}, via_global.organisation)

        # then: each request passed through exactly one proxy, and arrived intact
        wait_until(lambda: settled(2) and len(receiver.requests) == 2, timeout=60, message="2 deliveries")
        assert [entry.target for entry in egress.forwarded()] == [receiver.url("/global")]
        assert [entry.target for entry in own.forwarded()] == [receiver.url("/own")]
        assert egress.refused == own.refused == []
        (arrived,) = receiver.at("/global")
        assert arrived.webhook_id == msg_id
        StandardWebhook(global_secret).verify(arrived.body, arrived.headers)
        assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_proxy_that_refuses_fails_the_attempt_and_it_is_retried(start_worker, receiver, make_webhook, event_type):
    # given: the proxy forwards only to 127.0.0.1, and this endpoint is addressed as localhost
    event_type("invoice.paid")
    with ForwardProxy() as egress:
        webhook, _ = make_webhook(
            receiver.on("/r", always(200)).replace("127.0.0.1", "localhost"), proxy_url=egress.url
        )
        start_worker(hookline={**FAST_RETRIES, "MAX_ATTEMPTS": 2})

        # when
        emit("invoice.paid", {"invoice": 1}, webhook.organisation)

        # then: the proxy's 403 is a failed attempt like any other
        wait_until(lambda: settled(1), timeout=60, message="the delivery to fail")
        assert receiver.requests == []
        assert len(egress.refused) == 2
        assert list(Attempt.objects.values_list("response_status", flat=True)) == [403, 403]
        assert Delivery.objects.get().status == "failed"


# --- retry policy ---------------------------------------------------------------------------------------------


def test_server_errors_policy_fails_a_400_at_once_and_retries_a_503(start_worker, receiver, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    rejecting, _ = make_webhook(receiver.on("/bad", always(400)))
    busy, _ = make_webhook(receiver.on("/busy", sequence(503, 200)))
    start_worker(hookline={**FAST_RETRIES, "RETRY_POLICY": "server-errors", "MAX_ATTEMPTS": 3})

    # when
    emit("invoice.paid", {"invoice": 1}, rejecting.organisation)

    # then: one attempt, failed; the endpoint stays in service
    wait_until(lambda: settled(2), timeout=60, message="2 settled deliveries")
    bad = Delivery.objects.get(webhook=rejecting)
    assert (bad.status, bad.attempts, bad.last_status_code) == ("failed", 1, 400)
    assert len(receiver.at("/bad")) == 1
    rejecting.refresh_from_db()
    assert rejecting.state == "new"
    # and the 503 was retried
    assert list(Delivery.objects.get(webhook=busy).attempt_log.values_list("response_status", flat=True)) == [503, 200]


def test_the_all_policy_retries_a_400(start_worker, receiver, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/bad-then-ok", sequence(400, 200)))
    start_worker(hookline={**FAST_RETRIES, "RETRY_POLICY": "all", "MAX_ATTEMPTS": 3})

    # when
    emit("invoice.paid", {"invoice": 1}, webhook.organisation)

    # then
    wait_until(lambda: settled(1), timeout=60, message="the delivery")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert len(receiver.at("/bad-then-ok")) == 2


# --- body size ----------------------------------------------------------------------------------------------------


def test_a_body_over_the_endpoints_max_bytes_fails_at_once_and_is_not_sent(worker, receiver, make_webhook, event_type):
    # given: a receiver whose gateway takes at most 300 bytes, alone and in batches, beside one without a limit
    event_type("invoice.paid")
    limited, _ = make_webhook(receiver.on("/limited", always(200)), contract={"body": {"max_bytes": 300}})
    batched, _ = make_webhook(
        receiver.on("/batched", always(200)),
        contract={"body": {"max_bytes": 300}, "batch": {"max_count": 5, "max_wait": 0.2}},
    )
    make_webhook(receiver.on("/open", always(200)))

    # when: a small event, then one whose body is larger than 300 bytes
    emit("invoice.paid", {"note": "small"}, limited.organisation)
    wait_until(lambda: settled(3), timeout=60, message="the small event's 3 deliveries")
    large = emit("invoice.paid", {"note": "x" * 400}, limited.organisation)
    wait_until(lambda: settled(6), timeout=60, message="the large event's 3 deliveries")

    # then: the small event reached all three; the large one only the endpoint without a limit
    assert [len(receiver.at(path)) for path in ("/limited", "/batched", "/open")] == [1, 1, 2]
    for webhook in (limited, batched):
        failed = Delivery.objects.get(webhook=webhook, event_id=large)
        assert (failed.status, failed.attempts) == ("failed", 0)  # not retried into the same refusal
        assert "body.max_bytes" in failed.last_error and "300" in failed.last_error
        assert not Attempt.objects.filter(delivery=failed).exists()
    limited.refresh_from_db()
    assert limited.state == "valid"  # the small event proved it; a body too large says nothing about the receiver


# --- token validation -----------------------------------------------------------------------------------------


def test_a_receiver_can_check_what_it_got(worker, receiver, make_webhook, event_type, other_organisation):
    # given: a delivered request, as the receiver got it
    event_type("invoice.paid")
    webhook, secret = make_webhook(receiver.on("/r", always(200)), shared_secret_header="X-OBC-Secret")
    emit("invoice.paid", {"invoice": 1}, webhook.organisation)
    wait_until(lambda: settled(1), timeout=60, message="the delivery")
    (got,) = receiver.at("/r")
    msg_id, signature = got.webhook_id, got.headers["webhook-signature"]
    forged = signing.sign(signing.generate_secret(), msg_id, int(got.headers["webhook-timestamp"]), got.body)
    mine = Delivery.objects.filter(webhook__organisation=webhook.organisation)
    theirs = Delivery.objects.filter(webhook__organisation=other_organisation)

    # when / then
    check = validate_token(msg_id, signature=signature, deliveries=mine)
    assert (check.valid, check.webhook_id, check.event_type) == (True, webhook.id, "invoice.paid")
    assert not validate_token(msg_id, signature=forged).valid
    assert validate_token(msg_id, token=got.headers["x-obc-secret"]).webhook_id == webhook.id
    assert not validate_token(msg_id, token=secret[:-2] + "xx").valid
    assert not validate_token(msg_id, signature=signature, deliveries=theirs).valid
