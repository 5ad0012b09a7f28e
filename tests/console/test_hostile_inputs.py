"""Hostile input on every way in (API, admin, model) answers a clear 4xx; every stored value renders in the admin and
the API."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from deliveries.models import Attempt, Delivery
from events.models import Event, EventType
from hookline import deepjson
from hooks.models import Webhook

pytestmark = pytest.mark.django_db

# Deep enough that json.loads and json.dumps(indent=2) run out of stack inside a request.
DEPTH = 990
DEEP_TEXT = '{"a":' * 10_000 + "1" + "}" * 10_000


def deep_text(depth: int) -> str:
    return '{"a":' * depth + '"leaf"' + "}" * depth


def post_raw(api, path: str, body: str | bytes):
    return api.generic("POST", path, body.encode() if isinstance(body, str) else body, content_type="application/json")


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "code"}
    if code:
        assert body["code"] == code, body
    return body


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/events/", '{"type": "invoice.paid", "payload": ' + DEEP_TEXT + "}"),
        ("/api/webhooks/", '{"url": "https://example.com/in", "headers": ' + DEEP_TEXT + "}"),
        ("/api/event-types/", '{"key": "deep.schema", "schema": ' + DEEP_TEXT + "}"),
        ("/api/events/", "[" * 100_000),
    ],
)
def test_json_nested_10000_deep_is_a_400_not_a_recursion_error(api, member, event_type, public_dns, path, body):
    # given
    member.is_staff = True  # the catalog's writes are staff-only
    member.save()
    event_type("invoice.paid")
    # when
    response = post_raw(api, path, body)
    # then
    error = assert_json_error(response, 400, "too_deep")
    assert "nested deeper than 80 levels (HOOKLINE['MAX_JSON_DEPTH'] + 16 for the request around it)" in error["detail"]
    assert not Event.objects.exists() and not Webhook.objects.exists()


@pytest.mark.parametrize("size", [1536 * 1024, 3 * 1024 * 1024, 30 * 1024 * 1024])
def test_bodies_over_the_request_limit_answer_the_apis_json_error(api, event_type, size):
    # given
    event_type("invoice.paid")
    body = '{"type": "invoice.paid", "payload": {"big": "' + "x" * size + '"}}'
    # when
    response = post_raw(api, "/api/events/", body)
    # then
    error = assert_json_error(response, 413, "request_too_large")
    assert "MAX_REQUEST_BYTES" in error["detail"] or "DATA_UPLOAD_MAX_MEMORY_SIZE" in error["detail"]
    assert not Event.objects.exists()


def test_a_body_between_the_payload_and_request_limits_names_the_payload_limit(api, event_type):
    event_type("invoice.paid")
    response = api.post("/api/events/", {"type": "invoice.paid", "payload": {"big": "x" * 300_000}}, format="json")
    error = assert_json_error(response, 400, "invalid_payload")
    assert "HOOKLINE['MAX_PAYLOAD_BYTES']" in error["detail"]


@pytest.mark.parametrize(
    "payload, says",
    [
        ('{"note": "a\\ud800b"}', "payload.note: contains a lone surrogate"),
        ('{"\\udc00": 1}', "payload (a key): contains a lone surrogate"),
        ('{"x": [' + deep_text(70) + "]}", "nested deeper than 64 levels"),
    ],
)
def test_emit_over_the_api_refuses_unstorable_payloads_with_400(api, event_type, payload, says):
    # given
    event_type("invoice.paid")
    # when
    response = post_raw(api, "/api/events/", '{"type": "invoice.paid", "payload": ' + payload + "}")
    # then
    error = assert_json_error(response, 400, "invalid_payload")
    assert says in error["detail"]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "headers, says",
    [
        (
            {f"X-H{n}": "v" for n in range(10_000)},
            "10000 static headers; the limit (HOOKLINE['MAX_STATIC_HEADERS']) is 50",
        ),
        ({f"X-H{n}": "v" * 1000 for n in range(20)}, "the limit (HOOKLINE['MAX_STATIC_HEADERS_BYTES']) is 8192"),
    ],
)
def test_an_endpoint_with_too_many_or_too_big_static_headers_is_refused(api, public_dns, headers, says):
    # when
    response = api.post("/api/webhooks/", {"url": "https://example.com/in", "headers": headers}, format="json")
    # then
    error = assert_json_error(response, 400)
    assert says in error["detail"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("name", "n" * 201, "name: Ensure this field has no more than 200 characters."),  # the serializer's own check
        ("description", "d" * 5001, "description: is 5001 characters long; the limit is 5000"),
        ("headers", {"X-Tenant\udc00": "v"}, "Not valid header names: 'X-Tenant\\udc00'"),
        ("headers", {"X-Tenant": "v\udc00"}, "Surrogate characters are not allowed"),
        ("name", "a\udc00", "Surrogate characters are not allowed"),
    ],
)
def test_endpoint_texts_are_limited(api, public_dns, field, value, says):
    # when
    response = post_raw(api, "/api/webhooks/", json.dumps({"url": "https://example.com/in", field: value}))
    # then
    assert says in assert_json_error(response, 400)["detail"]
    assert not Webhook.objects.exists()


def test_the_services_apply_the_same_limits_to_python_callers(make_webhook, public_dns):
    with pytest.raises(ValidationError, match="name: is 201 characters long"):
        make_webhook("https://example.com/in", name="n" * 201)
    with pytest.raises(ValidationError, match="static headers"):
        make_webhook("https://example.com/in", headers={f"X-{n}": "v" for n in range(51)})


# --- the model field and the admin forms ------------------------------------------------------


def test_the_url_guard_is_the_model_fields_validator_too(settings, organisation):
    # given: a host's own ModelForm or a data migration skips hooks.services
    settings.HOOKLINE = {"ALLOW_PRIVATE_ADDRESSES": False}
    webhook = Webhook(url="http://127.0.0.1/", name="x", organisation=organisation, secret_encrypted="-")
    # when
    with pytest.raises(ValidationError) as refused:
        webhook.full_clean()
    # then
    assert "loopback" in str(refused.value.message_dict["url"])
    settings.HOOKLINE = {"ALLOW_PRIVATE_ADDRESSES": True}
    webhook.full_clean()


@pytest.fixture
def staff_client(client, operator):
    client.force_login(operator)
    return client


@pytest.mark.parametrize(
    "headers, says",
    [
        (DEEP_TEXT, "nested deeper than 64 levels"),
        (json.dumps({f"X-H{n}": "v" for n in range(10_000)}), "10000 static headers"),
        ('{"X-A": "\\ud800"}', "lone surrogate"),
    ],
)
def test_the_admin_form_refuses_hostile_headers_on_their_field(staff_client, organisation, headers, says):
    # when
    response = staff_client.post(
        reverse("admin:hooks_webhook_add"),
        {
            "organisation": organisation.pk,
            "name": "x",
            "url": "http://127.0.0.1:9/in",
            "event_types": "*",
            "headers": headers,
            "standard_signature": "on",
        },
    )
    # then
    assert response.status_code == 200
    assert says in str(response.context["adminform"].form.errors["headers"])
    assert not Webhook.objects.exists()


def test_the_catalog_admin_refuses_a_schema_nested_too_deep_and_a_long_description(admin_client):
    response = admin_client.post(
        reverse("admin:events_eventtype_add"), {"key": "deep.schema", "schema": DEEP_TEXT, "description": "d" * 5001}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "nested deeper than 64 levels" in str(errors["schema"])
    assert "is 5001 characters long; the limit is 5000" in str(errors["description"])
    assert not EventType.objects.filter(key="deep.schema").exists()


def test_the_catalog_api_limits_descriptions(api, member):
    member.is_staff = True
    member.save()
    response = api.post("/api/event-types/", {"key": "long.description", "description": "d" * 5001}, format="json")
    assert "no more than 5000 characters" in assert_json_error(response, 400)["detail"]


# --- whatever is stored renders --------------------------------------------------------------


def store_json(model, pk, column: str, text: str) -> None:
    """Write a JSON column behind the ORM's back, as an old version or another program might have."""
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s{cast} WHERE id = %s", [text, pk])


def odd_rows(make_webhook, *, surrogates: bool) -> Delivery:
    """An event ~900 deep and huge, an attempt with binary-ish and deep bodies and odd headers, a deep schema."""
    webhook, _ = make_webhook("http://127.0.0.1:9/in", name="Odd <b>endpoint</b>")
    now = timezone.now()
    event = Event.objects.create(
        type="invoice.paid", payload={}, organisation=webhook.organisation, created_at=now, dispatched_at=now
    )
    delivery = Delivery.objects.create(
        event=event,
        webhook=webhook,
        status="failed",
        created_at=now,
        attempts=1,
        total_attempts=1,
        last_status_code=500,
    )
    attempt = Attempt.objects.create(
        delivery=delivery,
        number=1,
        created_at=now,
        request_url=webhook.url,
        request_headers={},
        request_body=deep_text(DEPTH),
        response_status=500,
        response_headers={},
        response_body="\ufffd\ufffdPNG\x01\x02 caf\u00e9 " + "x" * 200_000,
        error="odd",
    )
    odd = '"\\ud800 lone \\udfff"' if surrogates else '"plain"'
    store_json(
        Event,
        event.pk,
        "payload",
        '{"deep": ' + deep_text(DEPTH) + ', "odd": ' + odd + ', "huge": "' + "y" * 300_000 + '"}',
    )
    store_json(Attempt, attempt.pk, "request_headers", '{"X-Odd": ' + odd + ', "X-Nested": {"a": [1]}}')
    store_json(Attempt, attempt.pk, "response_headers", '{"Content-Type": ' + odd + "}")
    store_json(Webhook, webhook.pk, "contract", '{"request": {"headers": {"X-Odd": ' + odd + "}}}")
    entry = EventType.objects.get_or_create(key="invoice.paid")[0]
    store_json(EventType, entry.pk, "schema", '{"odd": ' + odd + ', "deep": ' + deep_text(DEPTH) + "}")
    return delivery


@pytest.mark.parametrize(
    "surrogates",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.skipif(
                connection.vendor == "postgresql", reason="PostgreSQL's jsonb cannot store a lone surrogate at all"
            ),
        ),
    ],
)
def test_every_admin_page_and_api_answer_renders_odd_stored_rows(
    admin_client, client_for, admin_user, make_webhook, event_type, surrogates
):
    # given
    delivery = odd_rows(make_webhook, surrogates=surrogates)
    event, webhook = delivery.event, delivery.webhook
    pages = [
        reverse("admin:events_event_changelist"),
        reverse("admin:events_event_change", args=[event.pk]),
        reverse("admin:deliveries_delivery_changelist"),
        reverse("admin:deliveries_delivery_change", args=[delivery.pk]),
        reverse("admin:hooks_webhook_changelist"),
        reverse("admin:hooks_webhook_change", args=[webhook.pk]),
        reverse("admin:events_eventtype_changelist"),
        reverse("admin:events_eventtype_change", args=[EventType.objects.get(key="invoice.paid").pk]),
    ]
    api = client_for(admin_user)
    answers = [
        "/api/deliveries/",
        f"/api/deliveries/{delivery.pk}/",
        "/api/webhooks/",
        f"/api/webhooks/{webhook.pk}/",
        "/api/event-types/",
        "/api/event-types/invoice.paid/",
    ]
    # when / then
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        if surrogates and page.endswith(f"{event.pk}/change/"):
            assert "\\ud800 lone \\udfff" in response.content.decode()  # shown as escapes
    for path in answers:
        response = api.get(path)
        assert response.status_code == 200, path
        assert deepjson.loads(response.content) is not None  # valid JSON (too deep for json.loads here)
    detail = deepjson.loads(api.get(f"/api/deliveries/{delivery.pk}/").content)
    assert detail["payload"]["huge"] == "y" * 300_000
    assert detail["attempt_log"][0]["request_body"].startswith('{"a":{"a":')
    if surrogates:
        assert detail["payload"]["odd"] == "\ud800 lone \udfff"  # the JSON escape, as stored
