"""Per-endpoint delivery contracts: validation, presets, and retry.decide() under an endpoint's policy."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from deliveries import retry
from deliveries.retry import Outcome
from hooks import contracts
from hooks.contracts import parse, validate_contract
from tests.support.overrides import hookline


def policy(**values):
    return parse(validate_contract({"policy": values})).policy


def test_an_empty_contract_is_the_hookline_defaults():
    assert validate_contract({}) == {} and parse({}) is contracts.DEFAULT
    assert retry.decide(201, 1, policy=parse({}).policy).outcome is Outcome.SUCCEEDED
    assert retry.decide(410, 1, policy=parse({}).policy).outcome is Outcome.GONE


def test_success_codes_retry_set_and_exhaustion_follow_the_policy():
    # given: OBC's rules (only 200 succeeds; everything else retried; 410 not special)
    obc = parse(validate_contract({"preset": "bugyo-cloud"})).policy
    # then
    assert retry.decide(200, 1, policy=obc).outcome is Outcome.SUCCEEDED
    assert retry.decide(201, 1, policy=obc).outcome is Outcome.RETRY
    assert retry.decide(204, 1, policy=obc).outcome is Outcome.RETRY
    assert retry.decide(410, 1, policy=obc).outcome is Outcome.RETRY
    assert retry.decide(500, 18, policy=obc).outcome is Outcome.FAILED  # the endpoint becomes invalid


def test_ricloud_treats_a_receivers_410_as_a_failure_never_a_deactivation():
    # given: only the owning organisation deactivates a ricloud config
    ricloud = parse(validate_contract({"preset": "ricloud"})).policy
    # then: 410 is retried like any other failure, and exhaustion makes the config invalid, not deactivated
    assert retry.decide(410, 1, policy=ricloud).outcome is Outcome.RETRY
    assert retry.decide(410, ricloud.max_attempts, policy=ricloud).outcome is Outcome.FAILED
    assert "410 not special" in contracts.describe(parse(validate_contract({"preset": "ricloud"})))


def test_bugyo_cloud_sends_accept_headers_and_guid_element_ids():
    stored = validate_contract({"preset": "bugyo-cloud"})
    assert stored["request"]["headers"] == {"Accept": "application/json", "Accept-Charset": "utf-8"}
    assert stored["body"]["id_format"] == "uuid-upper"
    # a preset's headers are kept, extended and overridden key by key, like its other sections
    given = validate_contract(
        {"preset": "bugyo-cloud", "request": {"headers": {"Accept-Charset": "utf-16", "X-Tenant": "a"}}}
    )
    assert given["request"]["headers"] == {"Accept": "application/json", "Accept-Charset": "utf-16", "X-Tenant": "a"}


def test_apigee_retries_only_5xx_three_times_five_minutes_apart_and_never_disables():
    apigee = parse(validate_contract({"preset": "apigee"})).policy
    assert retry.decide(503, 1, "9999", policy=apigee) == retry.Decision(Outcome.RETRY, 300.0)  # Retry-After ignored
    assert retry.decide(None, 3, policy=apigee) == retry.Decision(Outcome.RETRY, 300.0)
    assert retry.decide(500, 4, policy=apigee).outcome is Outcome.EXHAUSTED  # only the delivery fails
    for status in (400, 404, 408, 429, 410):
        assert retry.decide(status, 1, policy=apigee).outcome is Outcome.REJECTED
    assert retry.schedule(policy=apigee) == [300.0, 300.0, 300.0]
    assert apigee.timeouts() == (3, 3)


def test_explicit_code_sets_and_exponential_overrides():
    given = policy(retry_on=[503], attempts=3, base_delay=1, max_delay=2, jitter=0)
    assert retry.decide(500, 1, policy=given).outcome is Outcome.REJECTED
    assert retry.decide(503, 1, policy=given) == retry.Decision(Outcome.RETRY, 1.0)
    assert retry.decide(503, 2, policy=given) == retry.Decision(Outcome.RETRY, 2.0)
    assert retry.decide(503, 3, policy=given).outcome is Outcome.FAILED


@override_settings(HOOKLINE={"CONNECT_TIMEOUT": 3, "READ_TIMEOUT": 10})
def test_timeouts_stay_within_the_global_bounds():
    assert policy(read_timeout=2).timeouts() == (3, 2)
    with pytest.raises(ValidationError, match="read_timeout"):
        validate_contract({"policy": {"read_timeout": 11}})


@pytest.mark.parametrize(
    "value, message",
    [
        ([], "JSON object"),
        ({"nope": {}}, "Unknown contract sections"),
        ({"preset": "paypal"}, "Unknown preset"),
        ({"body": {"id_format": "guid"}}, "body.id_format must be one of event, uuid, uuid-upper"),
        ({"request": {"headers": ["Accept"]}}, "must be an object"),
        ({"request": {"headers": {"Content-Type": "text/plain"}}}, "cannot be overridden: Content-Type"),
        ({"request": {"headers": {"X-A": "1\r\nX-B: 2"}}}, "line breaks"),
        ({"request": {"headers": {"bad name": "1"}}}, "Not valid header names"),
        (
            {"body": {"shape": "template", "template": {"t": "{{secret.signing}}"}}},
            "unknown placeholder {{secret.signing}}",
        ),
        ({"policy": {"attempts": 0}}, "policy.attempts"),
        ({"policy": {"delays": []}}, "policy.delays"),
        ({"policy": {"success": [700]}}, "policy.success"),
        ({"policy": {"retry_on": "sometimes"}}, "policy.retry_on"),
        ({"policy": {"on_exhaustion": "explode"}}, "on_exhaustion"),
        ({"policy": {"speed": 1}}, "Unknown contract.policy keys"),
        ({"body": {"shape": "xml"}}, "body.shape"),
        ({"body": {"shape": "template"}}, "needs body.template"),
        ({"body": {"shape": "template", "template": {"a": "{{__import__}}"}}}, "unknown placeholder"),
        ({"body": {"shape": "template", "template": {"a": "{{const.token}}"}}}, "unknown placeholder"),
        ({"body": {"shape": "template", "template": {"a": "{{data"}}}, "unfinished"),
        ({"body": {"content_type": "json"}}, "media type"),
        ({"batch": {"max_count": 0}}, "batch.max_count"),
        ({"preset": ["apigee"]}, "preset's name"),
        ({"preset": "apigee", "policy": [1]}, "contract.policy must be an object"),
        ({"body": {"constants": {"token": "a\x00b"}}}, "NUL"),
    ],
)
def test_refusals_say_what_is_wrong(value, message):
    with pytest.raises(ValidationError, match=message):
        validate_contract(value)


def test_a_preset_is_stored_expanded_and_its_values_can_be_overridden():
    stored = validate_contract({"preset": "apigee", "policy": {"delays": [1, 1, 1]}})
    assert stored["preset"] == "apigee" and stored["policy"]["delays"] == [1, 1, 1]
    assert stored["policy"]["retry_on"] == "5xx" and stored["body"] == {"shape": "payload"}
    assert "preset apigee" in contracts.describe(parse(stored))


# --- body shapes ------------------------------------------------------------------------------------------------------


def _event(**fields):
    from datetime import datetime

    from events.models import Event

    return Event(
        id="msg_1",
        type=fields.pop("type", "notice.published"),
        payload=fields.pop("payload", {"event": "PUBLISH", "noticeId": 7, "tags": ["a"]}),
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )


def _body(value):
    return parse(validate_contract({"body": value})).body


def test_the_payload_alone():
    from deliveries import messages

    assert (
        messages.BodyCache().body(_event(), "", _body({"shape": "payload"}))
        == b'{"event":"PUBLISH","noticeId":7,"tags":["a"]}'
    )


def test_a_template_fills_placeholders_with_their_json_types_and_spreads_data():
    from deliveries import messages

    body = _body(
        {
            "shape": "template",
            "constants": {"token": "t-42"},
            "template": {
                "...": "{{data}}",
                "token": "{{const.token}}",
                "id": "{{id}}",
                "first": "{{data.tags}}",
                "label": "notice {{data.noticeId}} ({{type}})",
                "when": "{{timestamp}}",
                "missing": "{{data.nope.deeper}}",
            },
        }
    )
    # when
    got = messages.BodyCache().body(_event(), "", body)
    # then
    import json

    assert json.loads(got) == {
        "event": "PUBLISH",
        "noticeId": 7,
        "tags": ["a"],
        "token": "t-42",
        "id": "msg_1",
        "first": ["a"],
        "label": "notice 7 (notice.published)",
        "when": "2026-01-02T03:04:05.678901Z",
        "missing": None,
    }


def test_id_format_turns_the_event_id_into_the_same_guid_every_time():
    from deliveries import messages

    body = _body({"shape": "template", "id_format": "uuid-upper", "template": {"id": "{{id}}", "label": "#{{id}}"}})
    got = __import__("json").loads(messages.BodyCache().body(_event(), "", body))
    # then: an upper-case GUID as in OBC's example (52A4C69D-9641-4147-860D-FFA5C207FDAB), derived from the event id
    assert __import__("re").fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}", got["id"])
    assert got["label"] == "#" + got["id"] and got["id"] == messages.element_id("msg_1", "uuid-upper")
    assert messages.element_id("msg_1", "uuid") == got["id"].lower()
    assert messages.element_id("msg_2", "uuid-upper") != got["id"] and messages.element_id("msg_1", "event") == "msg_1"


def test_a_template_is_data_nothing_in_it_is_executed():
    from deliveries import messages

    body = _body({"shape": "template", "template": {"x": "{{data.__class__}}", "y": "{% now %} ${7*7} {{ data }}"}})
    got = messages.BodyCache().body(_event(payload={"a": 1}), "", body)
    assert got == b'{"x":null,"y":"{% now %} ${7*7} {\\"a\\":1}"}'


# --- own secrets ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_imported_secret_and_a_chosen_shared_secret_are_sent_and_encrypted(organisation):
    from deliveries import messages
    from hooks import services, signing

    imported = "whsec_" + __import__("base64").b64encode(b"k" * 32).decode()
    webhook, secret = services.create_webhook(
        url="http://127.0.0.1:9/in",
        organisation=organisation,
        secret=imported,
        shared_secret_header="X-OBC-Secret",
        shared_secret="customer-chosen-value",
    )
    assert secret == imported
    event = _event()
    request = messages.build_request(event, webhook, b"{}", timestamp=1)
    assert request.headers["X-OBC-Secret"] == "customer-chosen-value"
    assert request.headers["webhook-signature"] == signing.sign(imported, event.id, 1, b"{}")
    assert "customer-chosen-value" not in webhook.shared_secret_value_encrypted
    assert messages.logged_headers(request, webhook)["X-OBC-Secret"] == "***"


@pytest.mark.django_db
def test_contract_headers_are_sent_and_the_endpoints_own_headers_override_them(organisation):
    from deliveries import messages
    from hooks import services

    webhook, _ = services.create_webhook(
        url="http://127.0.0.1:9/in",
        organisation=organisation,
        headers={"accept-charset": "shift_jis"},
        contract={"preset": "bugyo-cloud"},
    )
    headers = messages.build_request(_event(), webhook, b"[]").headers
    assert headers["Accept"] == "application/json" and headers["accept-charset"] == "shift_jis"
    assert "Accept-Charset" not in headers and headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.django_db
def test_a_body_token_is_generated_placed_in_the_body_masked_in_the_log_and_rotatable(organisation):
    from deliveries import messages
    from hooks import services

    # given: a store-notice endpoint (its template places {{secret.token}})
    webhook, _secret = services.create_webhook(
        url="http://127.0.0.1:9/in", organisation=organisation, contract={"preset": "store-notice"}
    )
    token = webhook.body_token
    assert token.startswith("whtok_") and len(token) > 40 and token not in webhook.body_token_encrypted
    # when
    event = _event(payload={"noticeId": 7, "event": "PUBLISH"})
    request = messages.build_request(event, webhook, messages.test_body(event, webhook))
    # then: the body carries it; the log does not
    assert __import__("json").loads(request.body) == {"noticeId": 7, "event": "PUBLISH", "token": token}
    logged = messages.masked_body(request.body, webhook).decode()
    assert token not in logged and '"token":"***"' in logged
    # when: rotated, the body carries the new one at once
    new = services.rotate_body_token(webhook)
    assert new != token and webhook.body_tokens() == [new, token]
    assert (
        new in messages.BodyCache().body(event, "", webhook.delivery_contract.body, token=webhook.body_token).decode()
    )


@pytest.mark.django_db
def test_a_body_token_can_be_imported_and_bad_ones_are_refused(organisation):
    from hooks import services

    webhook, _ = services.create_webhook(
        url="http://127.0.0.1:9/in",
        organisation=organisation,
        contract={"preset": "store-notice"},
        body_token="tok-5f2b9c-0123456789",
    )
    assert webhook.body_token == "tok-5f2b9c-0123456789"
    for bad in ("short", 'has"quote-0123456789', "has space 0123456789", "ünïcode-0123456789ab"):
        with pytest.raises(ValidationError, match="body_token"):
            services.rotate_body_token(webhook, token=bad)
    # an endpoint whose body places no token has none; given such a template later, it gets one before it sends
    plain, _ = services.create_webhook(url="http://127.0.0.1:9/in", organisation=organisation)
    assert not plain.body_token_encrypted
    services.update_webhook(plain, contract={"preset": "store-notice"})
    assert plain.body_token.startswith("whtok_")


@pytest.mark.django_db
def test_a_raw_secret_signs_with_its_bytes_and_bad_ones_are_refused(organisation):
    import base64
    import hashlib
    import hmac

    from hooks import services, signing

    webhook, _secret = services.create_webhook(
        url="http://127.0.0.1:9/in", organisation=organisation, secret="my-old-platform-secret-123"
    )
    digest = hmac.new(b"my-old-platform-secret-123", b"msg_1.1.{}", hashlib.sha256).digest()
    assert signing.sign(webhook.secret, "msg_1", 1, b"{}") == "v1," + base64.b64encode(digest).decode()
    for bad in ("whsec_!!!", "whsec_" + base64.b64encode(b"short").decode(), "short", "has space in it 1234"):
        with pytest.raises(ValidationError) as caught:
            services.create_webhook(url="http://127.0.0.1:9/in", organisation=organisation, secret=bad)
        assert "secret" in caught.value.message_dict
    assert services.rotate_secret(webhook, secret="another-imported-secret") == "another-imported-secret"


# --- asymmetric signatures --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_v1a_signatures_verify_with_the_public_key_in_an_independent_library(organisation):
    import base64

    from nacl.signing import SigningKey, VerifyKey
    from standardwebhooks.webhooks import Webhook as StandardWebhook

    from deliveries import messages
    from hooks import services

    webhook, secret = services.create_webhook(
        url="http://127.0.0.1:9/in", organisation=organisation, asymmetric_signature=True
    )
    assert webhook.public_key.startswith("whpk_") and webhook.signing_key.startswith("whsk_")
    assert webhook.signing_key not in webhook.signing_key_encrypted
    # when
    request = messages.build_request(_event(), webhook, b'{"a":1}', timestamp=1700000000)
    # then: PyNaCl (libsodium) accepts the v1a signature with the published key, and the v1 one still verifies
    v1, v1a = request.headers["webhook-signature"].split()
    assert v1.startswith("v1,") and v1a.startswith("v1a,")
    verify_key = VerifyKey(base64.b64decode(webhook.public_key.removeprefix("whpk_")))
    verify_key.verify(b'msg_1.1700000000.{"a":1}', base64.b64decode(v1a.removeprefix("v1a,")))
    assert bytes(
        SigningKey(base64.b64decode(webhook.signing_key.removeprefix("whsk_"))[:32]).verify_key
    ) == base64.b64decode(webhook.public_key.removeprefix("whpk_"))  # whsk_ is libsodium's seed ‖ public key
    fresh = messages.build_request(_event(), webhook, b'{"a":1}')
    assert StandardWebhook(secret).verify(b'{"a":1}', fresh.headers) == {"a": 1}
    # and: the key pair stays when the endpoint is edited
    public_key = webhook.public_key
    services.update_webhook(webhook, name="renamed")
    assert webhook.public_key == public_key


# --- test on create / URL change --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_endpoint_that_asks_for_it_is_tested_after_create_and_url_change_only(
    organisation, monkeypatch, django_capture_on_commit_callbacks
):
    from deliveries import tasks
    from hooks import services

    asked: list[int] = []
    monkeypatch.setattr(tasks.test_endpoint_task, "delay", asked.append)
    with django_capture_on_commit_callbacks(execute=True):
        webhook, _ = services.create_webhook(url="http://127.0.0.1:9/in", organisation=organisation, test_on_save=True)
        plain, _ = services.create_webhook(url="http://127.0.0.1:9/in", organisation=organisation)
    assert asked == [webhook.id]
    with django_capture_on_commit_callbacks(execute=True):
        services.update_webhook(webhook, name="renamed")
        services.update_webhook(plain, url="http://127.0.0.1:9/moved")
    assert asked == [webhook.id]
    with django_capture_on_commit_callbacks(execute=True):
        services.update_webhook(webhook, url="http://127.0.0.1:9/moved")
    assert asked == [webhook.id, webhook.id]


# --- Architecture II: every option in the contract, one effective() ----------------------------------


def test_effective_resolves_every_default_from_the_settings_once_per_generation():
    contract = parse(validate_contract({"control": {"rate_limit": 4}, "policy": {"read_timeout": 2}}))
    with override_settings(HOOKLINE={"BREAKER_THRESHOLD": 7, "PROXY": "http://egress:3128", "MAX_ATTEMPTS": 9}):
        resolved = contract.effective()
        assert contract.effective() is resolved  # cached while the settings stay
        assert (
            resolved.control.rate_limit_burst,
            resolved.control.breaker_threshold,
            resolved.control.breaker_cooldown,
            resolved.request.proxy_url,
            resolved.policy.attempts,
            resolved.policy.read_timeout,
        ) == (4, 7, 60.0, "http://egress:3128", 9, 2)
    assert contract.effective().control.breaker_threshold == 0  # the settings changed: resolved again
    assert contracts.DEFAULT.effective().request.user_agent.startswith("Hookline/")
    assert (contract.effective().control.bucket, contracts.DEFAULT.effective().control.bucket) == ((4, 4), None)


def test_the_resolved_sections_have_every_option_of_their_section():
    # The admin form reads each option's resolved default by name (console/endpoints/forms.py): a field added to
    # Policy or Control needs its resolved counterpart too.
    resolved = contracts.DEFAULT.effective()
    for option in contracts.OPTIONS:
        assert hasattr(getattr(resolved, option.section), option.key), option.path
    for plain, resolved_type in (
        (contracts.Policy, contracts.ResolvedPolicy),
        (contracts.Control, contracts.ResolvedControl),
    ):
        assert [f.name for f in fields(plain)] == [f.name for f in fields(resolved_type)]
    assert [f.name for f in fields(contracts.Contract)] == [f.name for f in fields(contracts.ResolvedContract)]


def test_a_body_size_limit_is_at_most_the_global_one_and_shows_in_the_description():
    # given / when: a limit under HOOKLINE MAX_REQUEST_BODY_BYTES is stored; 0 and one above the global are refused
    stored = validate_contract({"body": {"max_bytes": 10_000}})
    with (
        hookline(MAX_REQUEST_BODY_BYTES=5_000),
        pytest.raises(contracts.ContractError, match="at most HOOKLINE MAX_REQUEST_BODY_BYTES") as above,
    ):
        validate_contract({"body": {"max_bytes": 10_000}})
    with pytest.raises(contracts.ContractError, match="from 1 to") as zero:
        validate_contract({"body": {"max_bytes": 0}})
    # then
    assert stored == {"body": {"max_bytes": 10_000}} and parse(stored).body.max_bytes == 10_000
    assert above.value.option == zero.value.option == "body.max_bytes"
    assert "bodies up to 10000 bytes" in contracts.describe(parse(stored))
    assert contracts.DEFAULT.body.max_bytes is None  # no limit of its own: the global one


def test_flat_option_names_are_set_into_their_sections_and_a_refusal_names_the_option():
    assert contracts.with_flat(
        {"preset": "apigee"}, {"headers": {"X-A": "1"}, "ordered": True, "rate_limit": None}
    ) == {"preset": "apigee", "request": {"headers": {"X-A": "1"}}, "control": {"ordered": True}}
    with pytest.raises(contracts.ContractError) as refused:
        validate_contract({"control": {"breaker_cooldown": -1}})
    assert refused.value.option == "control.breaker_cooldown"
    assert contracts.OPTION_BY_PATH[refused.value.option].flat == "breaker_cooldown"


@pytest.mark.usefixtures("public_dns")
def test_the_api_takes_and_shows_the_flat_names_and_the_contract_as_one_value(api):
    # when: a contract and a flat option together
    created = api.post(
        "/api/webhooks/",
        {
            "url": "https://example.com/h",
            "contract": {"preset": "apigee"},
            "headers": {"X-Tenant": "acme"},
            "github_signature": True,
        },
        format="json",
    )
    # then
    assert created.status_code == 201, created.data
    body = created.json()
    assert body["contract"]["preset"] == "apigee" and body["contract"]["request"] == {"headers": {"X-Tenant": "acme"}}
    assert body["contract"]["signature"] == {"github": True}
    assert (body["headers"], body["github_signature"], body["standard_signature"], body["rate_limit"]) == (
        {"X-Tenant": "acme"},
        True,
        True,
        None,
    )
    # a refused flat option answers on its own field; a contract replaces the stored one as a whole
    url = f"/api/webhooks/{body['id']}/"
    refused = api.patch(url, {"headers": {"webhook-id": "forged"}}, format="json")
    assert refused.status_code == 400 and "headers" in refused.json()["fields"]
    replaced = api.patch(url, {"contract": {"control": {"ordered": True}}}, format="json").json()
    assert replaced["contract"] == {"control": {"ordered": True}} and replaced["headers"] == {} and replaced["ordered"]
