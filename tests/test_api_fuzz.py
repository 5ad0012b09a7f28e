"""Property-based fuzzing of the live API from its own OpenAPI schema (schemathesis): no 5xx, every answer as documented."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from django.core.handlers.wsgi import WSGIHandler
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from deliveries import transport

# Bounded so that the whole run stays well under a minute on a busy 2-core machine.
EXAMPLES_PER_OPERATION = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Loaded at collection, in-process, from the schema view itself (generating it touches no database).
# schemathesis.pytest.from_fixture would defer this to a fixture, but it does not work with pytest 9.2.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), headers={"Accept": "application/json"})
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True, database="none")


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
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_the_api_never_fails_and_answers_as_documented(case, alices_token):
    # when / then
    case.call_and_validate(headers={"Authorization": f"Token {alices_token}"}, checks=CHECKS)


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
    "payload with a lone surrogate": ("/api/events/", {"type": "invoice.paid", "payload": {"note": "a\ud800b"}},
                                      "invalid_payload"),
    "payload with a surrogate key": ("/api/events/", {"type": "invoice.paid", "payload": {"\udfff": 1}},
                                     "invalid_payload"),
    "payload with NUL": ("/api/events/", {"type": "invoice.paid", "payload": {"note": "a\x00b"}}, "invalid_payload"),
    "payload 70 deep": ("/api/events/", {"type": "invoice.paid", "payload": _nested(70)}, "invalid_payload"),
    "payload over MAX_PAYLOAD_BYTES": ("/api/events/", {"type": "invoice.paid", "payload": {"big": "x" * 300_000}},
                                       "invalid_payload"),
    "payload 10,000 deep": ("/api/events/", _raw('{"type": "invoice.paid", "payload": ', DEEP), "too_deep"),
    "body 100,000 brackets": ("/api/events/", b"[" * 100_000, "too_deep"),
    "body of 3 MB": ("/api/events/", _raw('{"type": "invoice.paid", "payload": {"big": "', "x" * 3 * 1024 * 1024, '"}}'),
                     "request_too_large"),
    "10,000 static headers": ("/api/webhooks/", {"url": "https://example.com/in",
                                                 "headers": {f"X-H{n}": "v" for n in range(10_000)}}, "too_many_headers"),
    "headers 10,000 deep": ("/api/webhooks/", _raw('{"url": "https://example.com/in", "headers": ', DEEP), "too_deep"),
    "headers 70 deep": ("/api/webhooks/", {"url": "https://example.com/in", "headers": _nested(70)}, "invalid"),
    "name with a lone surrogate": ("/api/webhooks/", {"url": "https://example.com/in", "name": "a\ud800"},
                                   "surrogate_characters_not_allowed"),
    "description too long": ("/api/webhooks/", {"url": "https://example.com/in", "description": "d" * 6000}, "too_long"),
    "schema 70 deep": ("/api/event-types/", {"key": "deep.schema", "schema": _nested(70)}, "invalid_schema"),
    "schema with a lone surrogate": ("/api/event-types/", {"key": "odd.schema", "schema": {"title": "\udc00"}},
                                     "invalid_schema"),
    "idempotency key with a lone surrogate": ("/api/events/", {"type": "invoice.paid", "payload": {},
                                                              "idempotency_key": "k\ud800"},
                                              "surrogate_characters_not_allowed"),
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
