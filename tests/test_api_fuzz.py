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
