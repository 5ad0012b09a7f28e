"""Property-based fuzzing of the live API from its own OpenAPI schema (schemathesis and Hypothesis): no 5xx, every
answer
as documented, nothing stored on refusal.

Runs in the unit step (SQLite) and again on PostgreSQL (marker ``postgres``), which refuses what SQLite stores.
``HOOKLINE_FUZZ_EXAMPLES`` sets the examples per operation: 20 in ``make test``, more in ``make fuzz``. The
figures (requests tried, 5xx found) go to var/fuzz-report.json.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deliveries import transport
from deliveries.models import Attempt, Delivery
from events.models import Event, EventType, ScheduledEvent
from hooks.models import Webhook
from tests.support import fuzzing
from tests.support.fuzzing import HOSTILE_LITERALS, SHAPES

pytestmark = pytest.mark.postgres

# Bounded so that the whole run stays well under a minute on a busy 2-core machine; `make fuzz` asks for more.
EXAMPLES_PER_OPERATION = fuzzing.examples()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Loaded at collection, in-process, from the schema view itself (generating it touches no database).
# schemathesis.pytest.from_fixture would defer this to a fixture, but it does not work with pytest 9.2.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), headers={"Accept": "application/json"})
schema.config.generation.update(
    max_examples=EXAMPLES_PER_OPERATION, deterministic=fuzzing.deterministic(), database="none"
)
fuzzing.add_hostile_hooks(schema)  # hostile strings and numbers in bodies, query parameters and path keys


@pytest.fixture
def alices_token(db, member, make_webhook, make_delivery, event_type, public_dns, monkeypatch):
    """Objects of alice's to find (ids 1-3 are likely guesses), and no real network whatever the fuzzer invents."""
    member.is_staff = True  # so that the catalog's writes are fuzzed too, not only refused
    member.save()
    # The test action would POST to the URL the fuzzer made up: every send is answered here instead.
    monkeypatch.setattr(transport, "post", lambda request: transport.TransportResult(status=200, body="ok"))
    event_type("invoice.paid", schema={"type": "object"})
    for n in range(3):
        webhook, _ = make_webhook(f"https://example.com/{n}")
        make_delivery(webhook, status="failed", attempts=[500])
    # Requests go straight to the WSGI handler, which would close the test's connection (and its transaction)
    # around each request: Django's own test client switches this off the same way.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield Token.objects.create(user=member).key
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
# The fixture's objects are meant to outlive single examples: later examples find what earlier ones made.
@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]
)
def test_the_api_never_fails_and_answers_as_documented(case, alices_token):
    # when / then
    with fuzzing.counted("schemathesis") as count:
        response = case.call(headers={"Authorization": f"Token {alices_token}"})
        count(response.status_code)
    case.validate_response(response, checks=CHECKS)


# --- hostile inputs, sent through the same machinery and checks -------------------------------


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _raw(prefix: str, inner: str, suffix: str = "}") -> bytes:
    return (prefix + inner + suffix).encode()


DEEP = '{"a":' * 10_000 + "1" + "}" * 10_000
# name: (path, body, the error code answered)
HOSTILE = {
    "payload with a lone surrogate": (
        "/api/events/",
        {"type": "invoice.paid", "payload": {"note": "a\ud800b"}},
        "invalid_payload",
    ),
    "payload with a surrogate key": (
        "/api/events/",
        {"type": "invoice.paid", "payload": {"\udfff": 1}},
        "invalid_payload",
    ),
    "payload with NUL": ("/api/events/", {"type": "invoice.paid", "payload": {"note": "a\x00b"}}, "invalid_payload"),
    "payload 70 deep": ("/api/events/", {"type": "invoice.paid", "payload": _nested(70)}, "invalid_payload"),
    "payload over MAX_PAYLOAD_BYTES": (
        "/api/events/",
        {"type": "invoice.paid", "payload": {"big": "x" * 300_000}},
        "invalid_payload",
    ),
    "payload 10,000 deep": ("/api/events/", _raw('{"type": "invoice.paid", "payload": ', DEEP), "too_deep"),
    "body 100,000 brackets": ("/api/events/", b"[" * 100_000, "too_deep"),
    "body of 3 MB": (
        "/api/events/",
        _raw('{"type": "invoice.paid", "payload": {"big": "', "x" * 3 * 1024 * 1024, '"}}'),
        "request_too_large",
    ),
    "10,000 static headers": (
        "/api/webhooks/",
        {"url": "https://example.com/in", "headers": {f"X-H{n}": "v" for n in range(10_000)}},
        "too_many_headers",
    ),
    "headers 10,000 deep": ("/api/webhooks/", _raw('{"url": "https://example.com/in", "headers": ', DEEP), "too_deep"),
    "headers 70 deep": ("/api/webhooks/", {"url": "https://example.com/in", "headers": _nested(70)}, "invalid"),
    "name with a lone surrogate": (
        "/api/webhooks/",
        {"url": "https://example.com/in", "name": "a\ud800"},
        "surrogate_characters_not_allowed",
    ),
    "description too long": (
        "/api/webhooks/",
        {"url": "https://example.com/in", "description": "d" * 6000},
        "too_long",
    ),
    "schema 70 deep": ("/api/event-types/", {"key": "deep.schema", "schema": _nested(70)}, "invalid_schema"),
    "schema with a lone surrogate": (
        "/api/event-types/",
        {"key": "odd.schema", "schema": {"title": "\udc00"}},
        "invalid_schema",
    ),
    "idempotency key with a lone surrogate": (
        "/api/events/",
        {"type": "invoice.paid", "payload": {}, "idempotency_key": "k\ud800"},
        "surrogate_characters_not_allowed",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_bodies_are_refused_as_documented(name, alices_token):
    # given
    path, body, code = HOSTILE[name]
    case = schema[path]["POST"].Case(body=body, media_type="application/json")
    # when
    response = case.call_and_validate(headers={"Authorization": f"Token {alices_token}"}, checks=CHECKS)
    # then: a 4xx in the one error shape, never a 5xx or Django's HTML page
    assert response.status_code in (400, 413), (name, response.status_code, response.text[:300])
    assert set(response.json()) >= {"detail", "code"} and response.json()["code"] == code


# --- every operation of the schema, hostile raw JSON in each body field, query parameter and path key ---------


RAW = schema.raw_schema
OPERATIONS = sorted(
    (method.upper(), path)
    for path, methods in RAW["paths"].items()
    for method in methods
    if method in ("get", "post", "put", "patch", "delete")
)
# A valid body per resource, so that a hostile value in one field meets the checks past "required".
BASE_BODIES = {
    "/api/webhooks/": {"url": "https://example.com/in", "event_types": ["*"], "name": "fuzzed"},
    "/api/scheduled-events/": {"name": "n", "event_type": "invoice.paid", "cron": "0 4 * * *", "payload": {"a": 1}},
    "/api/event-types/": {"key": "fuzz.made", "description": "d", "schema": {"type": "object"}},
    "/api/events/": {"type": "invoice.paid", "payload": {"a": 1}},
    "/api/tokens/validate/": {"webhook_id": "msg_1", "signature": "v1,abc", "timestamp": 1},
    "/api/webhooks/{id}/recover/": {"since": "2026-01-01T00:00:00Z"},
}


def _request_properties(method: str, path: str) -> list[str]:
    body = RAW["paths"][path][method.lower()].get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    component = RAW["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
    properties = set(component.get("properties", {}))
    for branch in component.get("anyOf", []):
        properties |= set(branch.get("properties", {}))
    return sorted(properties)


def _parameters(method: str, path: str, where: str) -> list[str]:
    return [p["name"] for p in RAW["paths"][path][method.lower()].get("parameters", []) if p["in"] == where]


def _base_body(path: str) -> dict:
    for prefix in sorted(BASE_BODIES, key=len, reverse=True):
        if path == prefix or (path.startswith(prefix) and path[len(prefix) :] in ("{id}/", "{key}/")):
            return dict(BASE_BODIES[prefix])
    return {}


def _stored() -> tuple:
    return (
        Webhook.objects.count(),
        Event.objects.count(),
        ScheduledEvent.objects.count(),
        EventType.objects.count(),
        Delivery.objects.count(),
        Attempt.objects.count(),
        sorted(map(repr, Webhook.objects.values_list("name", "url", "condition", "contract", "state"))),
    )


@pytest.fixture
def alices_objects(alices_token, member):
    """Alice's token, and the ids her paths may name (objects of hers, or a hostile key)."""
    client = Client(HTTP_AUTHORIZATION=f"Token {alices_token}")
    webhook = Webhook.objects.filter(organisation__members=member).first()
    schedule = ScheduledEvent.objects.create(
        name="s", organisation=webhook.organisation, event_type="invoice.paid", cron="0 4 * * *", payload={"a": 1}
    )
    ids = {
        "/api/webhooks/": webhook.pk,
        "/api/scheduled-events/": schedule.pk,
        "/api/event-types/": "invoice.paid",
        "/api/deliveries/": Delivery.objects.filter(webhook=webhook).first().pk,
    }
    return client, ids


@pytest.mark.parametrize("method, path", OPERATIONS)
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=fuzzing.deterministic(),
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_every_operation_refuses_hostile_values_without_a_5xx_and_stores_nothing(alices_objects, method, path, data):
    # given: a valid request with one hostile value in a body field, a query parameter or the path key
    client, ids = alices_objects
    key = next((value for prefix, value in ids.items() if path.startswith(prefix)), 1)
    url_key = str(key)
    body = _base_body(path) if method in ("POST", "PUT", "PATCH") else None
    query: dict[str, str] = {}
    places = ["path"] if "{" in path else []
    places += ["query"] if _parameters(method, path, "query") else []
    places += ["body"] if body is not None and (_request_properties(method, path) or body) else []
    if not places:
        places = ["none"]
    place = data.draw(st.sampled_from(places), label="place")
    if place == "path":
        url_key = data.draw(fuzzing.hostile_strings(path_key=True), label="path key")
    elif place == "query":
        name = data.draw(st.sampled_from(_parameters(method, path, "query")), label="parameter")
        query[name] = data.draw(fuzzing.hostile_strings(), label="value")
    text = None
    if body is not None:
        if place == "body":
            field = data.draw(st.sampled_from(sorted({*_request_properties(method, path), *body})), label="field")
            literal = data.draw(st.sampled_from(HOSTILE_LITERALS), label="literal")
            shape = data.draw(st.sampled_from(SHAPES), label="shape")
            body[field] = "@@HOSTILE@@"
            text = json.dumps(body).replace('"@@HOSTILE@@"', shape.replace("@", literal))
        else:
            text = json.dumps(body)
    if method == "DELETE" and place != "path":
        return  # deleting alice's own objects is a success, not a refusal: the path key is what is fuzzed here
    url = path.replace("{id}", quote(url_key, safe="")).replace("{key}", quote(url_key, safe=""))
    before = _stored()
    # when
    with fuzzing.counted("api") as count:
        kwargs = {"data": text, "content_type": "application/json"} if text is not None else {}
        response = getattr(client, method.lower())(url + ("?" + urlencode(query) if query else ""), **kwargs)
        count(response.status_code)
    # then: never a 5xx; a refusal in the one error shape, and nothing stored
    assert response.status_code < 500, (method, url, query, text and text[:300], response.content[:500])
    if response.status_code >= 400:
        assert {"detail", "code"} <= set(response.json()), response.content[:300]
        if method != "GET":
            assert _stored() == before, (method, url, text and text[:300])
