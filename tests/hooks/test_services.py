"""Tests for endpoint options in hooks.services and hooks.models: headers, proxy, Basic auth, secrets at rest,
rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from hookline.checks import check_hookline_settings
from hooks import services, states
from hooks.models import Webhook
from tests.support.overrides import hookline

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/in"


# --- static headers and the shared-secret header -----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["webhook-signature", "Webhook-Id", "WEBHOOK-TIMESTAMP", "X-Hub-Signature-256", "Content-Type", "Host"]
)
def test_static_headers_cannot_override_what_hookline_sets(make_webhook, name):
    with pytest.raises(ValidationError, match="cannot be overridden"):
        make_webhook(URL, headers={name: "forged"})


def test_static_headers_cannot_override_the_shared_secret_header(make_webhook):
    with pytest.raises(ValidationError, match="x-obc-secret"):
        make_webhook(URL, shared_secret_header="X-OBC-Secret", headers={"x-obc-secret": "guess"})


def test_an_edit_cannot_sneak_in_a_signature_header(make_webhook):
    # given
    webhook, _ = make_webhook(URL, headers={"X-Tenant": "acme"})
    # when / then
    with pytest.raises(ValidationError, match="webhook-signature"):
        services.update_webhook(webhook, headers={"X-Tenant": "acme", "webhook-signature": "v1,forged"})


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nX-Injected: 1"}, {"X-Evil": "a\nb"}, {"X-Evil": "nul\x00"}])
def test_static_header_values_cannot_carry_line_breaks(make_webhook, headers):
    with pytest.raises(ValidationError, match="line breaks"):
        make_webhook(URL, headers=headers)


@pytest.mark.parametrize("name", ["X Space", "X:Colon", "", "Ünïcode"])
def test_static_header_names_must_be_tokens(make_webhook, name):
    with pytest.raises(ValidationError, match="valid header name"):
        make_webhook(URL, headers={name: "v"})


@pytest.mark.parametrize("name", ["webhook-signature", "X-Hub-Signature-256", "Content-Length"])
def test_the_shared_secret_header_cannot_replace_a_hookline_header(make_webhook, name):
    with pytest.raises(ValidationError, match="set by Hookline"):
        make_webhook(URL, shared_secret_header=name)


def test_the_shared_secret_header_must_be_a_token(make_webhook):
    with pytest.raises(ValidationError, match="not a valid header name"):
        make_webhook(URL, shared_secret_header="X-OBC Secret")


# --- the clean step the admin form and the API serializer share ------------------------------------------


def test_clean_returns_normalised_values_and_saves_nothing():
    # when
    cleaned = services.clean_webhook_fields({"url": URL, "proxy_url": " http://127.0.0.1:3128 ", "headers": {"X-A": 1}})
    # then
    # then: the flat option names are set into the one contract value
    assert cleaned == {
        "url": URL,
        "event_types": ["*"],
        "contract": {"request": {"proxy_url": "http://127.0.0.1:3128", "headers": {"X-A": "1"}}},
    }
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"url": "ftp://example.com/in"}, "url", "unsafe_url"),
        ({"url": URL, "event_types": ["a..b"]}, "event_types", "event_types"),
        ({"url": URL, "proxy_url": "socks5://203.0.113.9:1080"}, "proxy_url", "unsafe_proxy"),
        ({"url": URL, "shared_secret_header": "Host"}, "shared_secret_header", "shared_secret_header"),
        ({"url": URL, "headers": {"webhook-id": "x"}}, "headers", "headers"),
    ],
)
def test_clean_raises_errors_keyed_by_the_field_at_fault(fields, field, code):
    with pytest.raises(ValidationError) as refused:
        services.clean_webhook_fields(fields)
    assert list(refused.value.error_dict) == [field]
    assert [error.code for error in refused.value.error_dict[field]] == [code]


def test_clean_of_an_edit_checks_the_state_against_the_endpoint(make_webhook):
    # given
    webhook, _ = make_webhook(URL, shared_secret_header="X-OBC-Secret")
    # when / then
    with pytest.raises(ValidationError) as refused:
        services.clean_webhook_fields({"state": "valid"}, webhook=webhook)
    assert list(refused.value.error_dict) == ["state"]
    with pytest.raises(ValidationError, match="x-obc-secret"):
        services.clean_webhook_fields({"headers": {"x-obc-secret": "guess"}}, webhook=webhook)
    assert services.clean_webhook_fields({"enabled": False}, webhook=webhook)["state"] == Webhook.State.DEACTIVATED


# --- the endpoint's proxy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        ("http://10.0.0.5:3128", "private address"),
        ("http://127.0.0.1:3128", "loopback"),
        ("socks5://203.0.113.9:1080", "Only http:// and https:// proxy URLs"),
        ("http://user:pw@93.184.216.34:3128", "cannot carry credentials"),
    ],
)
def test_an_endpoint_proxy_is_checked_like_its_url(make_webhook, proxy, why):
    with hookline(ALLOW_PRIVATE_ADDRESSES=False), pytest.raises(ValidationError, match=why):
        make_webhook("http://93.184.216.34/in", proxy_url=proxy)


def test_a_loopback_proxy_is_fine_when_private_addresses_are_allowed(make_webhook):
    webhook, _ = make_webhook(URL, proxy_url=" http://127.0.0.1:3128 ")
    assert webhook.delivery_contract.request.proxy_url == "http://127.0.0.1:3128"


def test_an_edit_checks_the_proxy_too(make_webhook):
    webhook, _ = make_webhook("http://93.184.216.34/in")
    with hookline(ALLOW_PRIVATE_ADDRESSES=False), pytest.raises(ValidationError, match="link-local"):
        services.update_webhook(webhook, proxy_url="http://169.254.169.254")


@pytest.mark.parametrize("proxy", ["egress.internal:3128", "socks5://egress.internal:1080", "http://"])
def test_a_malformed_global_proxy_fails_the_system_check(proxy):
    with hookline(PROXY=proxy):
        assert [error.id for error in check_hookline_settings()] == ["hookline.E010"]


def test_a_private_global_proxy_passes_the_system_check():
    # the operator's proxy is trusted: an egress proxy usually sits on a private network
    with hookline(PROXY="http://10.0.0.5:3128"):
        assert check_hookline_settings() == []


# --- Basic auth from the URL ----------------------------------------------------------------------------


def test_credentials_in_the_url_become_basic_auth(make_webhook):
    # when
    webhook, _ = make_webhook("http://ada:pa%3Ass@127.0.0.1:9/in")
    # then
    webhook.refresh_from_db()
    assert webhook.url == URL
    assert (webhook.auth_username, webhook.auth_password) == ("ada", "pa:ss")
    assert webhook.masked_url == "http://ada:***@127.0.0.1:9/in"


def test_the_masked_url_sent_back_keeps_the_stored_password(make_webhook):
    # given: a form or API client sends back the URL as it was displayed
    webhook, _ = make_webhook("http://ada:pw@127.0.0.1:9/in")
    # when
    services.update_webhook(webhook, url=webhook.masked_url)
    # then
    webhook.refresh_from_db()
    assert (webhook.auth_username, webhook.auth_password) == ("ada", "pw")
    assert webhook.state == Webhook.State.NEW


def test_new_credentials_replace_the_old_ones(make_webhook):
    webhook, _ = make_webhook("http://ada:pw@127.0.0.1:9/in")
    services.update_webhook(webhook, url="http://bob:***@127.0.0.1:9/in")  # a new user: *** is literal
    webhook.refresh_from_db()
    assert (webhook.auth_username, webhook.auth_password) == ("bob", "***")


def test_credentials_are_not_carried_over_to_a_new_url(make_webhook):
    # given
    webhook, _ = make_webhook("http://ada:pw@127.0.0.1:9/in")
    # when
    services.update_webhook(webhook, url="http://127.0.0.1:9/elsewhere")
    # then
    webhook.refresh_from_db()
    assert (webhook.auth_username, webhook.auth_password_encrypted) == ("", "")


def test_resubmitting_the_same_url_without_credentials_keeps_them(make_webhook):
    webhook, _ = make_webhook("http://ada:pw@127.0.0.1:9/in")
    services.update_webhook(webhook, url=URL, name="renamed")
    webhook.refresh_from_db()
    assert webhook.auth_password == "pw"


# --- secrets at rest and rotation ------------------------------------------------------------------------


def test_secrets_and_passwords_are_encrypted_at_rest(make_webhook):
    # given
    webhook, secret = make_webhook("http://ada:hunter22@127.0.0.1:9/in", shared_secret_header="X-OBC-Secret")
    services.rotate_secret(webhook)
    # when: the row as the database holds it
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM hooks_webhook WHERE id = %s", [webhook.id])
        row = " ".join(str(value) for value in cursor.fetchone())
    # then
    assert "hunter22" not in row
    assert secret not in row
    assert secret.removeprefix("whsec_") not in row
    assert webhook.secret != secret and webhook.secret.startswith("whsec_")


def test_rotation_signs_with_both_secrets_until_the_grace_period_ends(make_webhook):
    # given
    webhook, old = make_webhook(URL)
    # when
    with hookline(SECRET_ROTATION_GRACE=3600):
        new = services.rotate_secret(webhook)
    # then
    webhook.refresh_from_db()
    assert new != old
    assert webhook.signing_secrets() == [new, old]
    assert webhook.signing_secrets(timezone.now() + timedelta(seconds=3601)) == [new]


def test_rotating_twice_drops_the_oldest_secret(make_webhook):
    webhook, first = make_webhook(URL)
    second = services.rotate_secret(webhook)
    third = services.rotate_secret(webhook)
    assert webhook.signing_secrets() == [third, second]
    assert first not in webhook.signing_secrets()


def test_an_edit_from_a_stale_copy_keeps_the_state_a_worker_set(make_webhook):
    # given: an operator's copy, loaded before a worker's retries ran out
    webhook, _ = make_webhook(URL)
    stale = Webhook.objects.get(pk=webhook.pk)
    states.transition(webhook, states.RETRIES_RAN_OUT)
    # when: the operator renames it
    services.update_webhook(stale, name="renamed")
    # then: the rename is saved, the worker's state is not undone
    fresh = Webhook.objects.get(pk=webhook.pk)
    assert (fresh.name, fresh.state, fresh.state_reason) == ("renamed", "invalid", "retries ran out")
