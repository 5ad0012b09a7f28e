"""The catalog and emit-over-HTTP API: the same validation as events.emit, with the reason in a 400."""

from __future__ import annotations

import pytest
from django.test import override_settings

from events.models import Event, EventType

pytestmark = pytest.mark.django_db


# --- catalog --------------------------------------------------------------------------------


def test_everyone_reads_the_catalog_by_key(api, event_type):
    # given
    event_type("invoice.paid", description="An invoice was paid.", schema={"type": "object"})

    # when
    listed = api.get("/api/event-types/").json()
    one = api.get("/api/event-types/invoice.paid/")

    # then
    assert "invoice.paid" in [entry["key"] for entry in listed["results"]]
    assert "webhook.test" in [entry["key"] for entry in listed["results"]]  # declared in code
    assert one.status_code == 200
    assert (one.json()["description"], one.json()["schema"]) == ("An invoice was paid.", {"type": "object"})


def test_unknown_event_type_is_404(api):
    # when
    response = api.get("/api/event-types/no.such/")

    # then
    assert response.status_code == 404


def test_staff_edit_the_catalog(client_for, member):
    # given
    member.is_staff = True
    member.save()
    staff = client_for(member)

    # when
    created = staff.post(
        "/api/event-types/",
        {"key": "order.shipped", "schema": {"type": "object", "required": ["order"]}},
        format="json",
    )
    edited = staff.patch("/api/event-types/order.shipped/", {"key": "renamed", "deprecated": True}, format="json")
    deleted = staff.delete("/api/event-types/order.shipped/")

    # then
    assert created.status_code == 201
    assert (edited.status_code, edited.json()["key"], edited.json()["deprecated"]) == (200, "order.shipped", True)
    assert deleted.status_code == 204 and not EventType.objects.filter(key="order.shipped").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"key": "bad key"}, "key"),
        ({"key": "x.*"}, "key"),
        ({"key": "a.b", "schema": {"type": "nonsense"}}, "schema"),
        ({"key": "webhook.test"}, "key"),
    ],
)
def test_the_catalog_refuses_bad_keys_schemas_and_duplicates(client_for, member, body, field):
    # given
    member.is_staff = True
    member.save()

    # when
    response = client_for(member).post("/api/event-types/", body, format="json")

    # then
    assert response.status_code == 400 and field in response.json()["fields"]


def test_only_staff_change_the_catalog(api, event_type):
    # given
    event_type("invoice.paid")

    # when
    responses = [
        api.post("/api/event-types/", {"key": "x.y"}, format="json"),
        api.patch("/api/event-types/invoice.paid/", {"deprecated": True}, format="json"),
        api.delete("/api/event-types/invoice.paid/"),
    ]

    # then
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert responses[0].json() == {
        "detail": "Only staff users may change the event-type catalog.",
        "code": "permission_denied",
    }


# --- emit -----------------------------------------------------------------------------------


def test_emit_stores_the_event_for_the_callers_organisation(api, event_type, organisation):
    # given
    event_type("invoice.paid")

    # when
    response = api.post("/api/events/", {"type": "invoice.paid", "payload": {"invoice": 42}}, format="json")

    # then
    assert response.status_code == 202
    body = response.json()
    assert body["id"].startswith("msg_") and (body["type"], body["organisation"]) == ("invoice.paid", "acme")
    assert Event.objects.get(id=body["id"]).organisation == organisation


def test_emit_names_an_unknown_event_type(api):
    # when
    response = api.post("/api/events/", {"type": "invoice.payed", "payload": {}}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_event_type"
    assert "'invoice.payed'" in response.json()["detail"]
    assert not Event.objects.exists()


def test_emit_refuses_hooklines_own_operational_types_and_says_why(api, event_type):
    # given: a reserved type in the catalog (the alerts system emits it)
    event_type("hookline.endpoint.invalid")

    # when: a client tries to forge one
    response = api.post("/api/events/", {"type": "hookline.endpoint.invalid", "payload": {"webhook": 1}}, format="json")

    # then
    assert response.status_code == 400
    assert "Hookline's own operational event types" in response.content.decode()
    assert not Event.objects.exists()


def test_emit_says_where_the_payload_fails_the_schema(api, event_type):
    # given
    event_type("invoice.paid", schema={"type": "object", "properties": {"invoice": {"type": "integer"}}})

    # when
    response = api.post("/api/events/", {"type": "invoice.paid", "payload": {"invoice": "42"}}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload"
    assert "at invoice" in response.json()["detail"]


def test_emit_refuses_an_oversized_payload(api, event_type, settings):
    # given
    event_type("invoice.paid")
    settings.HOOKLINE = {**settings.HOOKLINE, "MAX_PAYLOAD_BYTES": 100}

    # when
    response = api.post("/api/events/", {"type": "invoice.paid", "payload": {"blob": "x" * 200}}, format="json")

    # then
    assert response.status_code == 400 and "MAX_PAYLOAD_BYTES" in response.json()["detail"]


def test_emit_refuses_a_nul_character_that_the_database_cannot_store(api, event_type):
    # given
    event_type("invoice.paid")

    # when
    response = api.post("/api/events/", {"type": "invoice.paid", "payload": {"note": "a\u0000b"}}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload" and "NUL" in response.json()["detail"]


@pytest.mark.parametrize("payload", [[1, 2], "text", None])
def test_emit_needs_an_object_payload(api, event_type, payload):
    # given
    event_type("invoice.paid")

    # when
    response = api.post("/api/events/", {"type": "invoice.paid", "payload": payload}, format="json")

    # then
    assert response.status_code == 400 and "payload" in response.json()["fields"]


def test_emit_is_idempotent_with_a_key(api, event_type):
    # given
    event_type("invoice.paid")
    body = {"type": "invoice.paid", "payload": {"invoice": 1}, "idempotency_key": "inv-1"}

    # when
    first = api.post("/api/events/", body, format="json").json()
    second = api.post("/api/events/", body, format="json").json()

    # then
    assert first["id"] == second["id"] and Event.objects.count() == 1


def test_emit_into_another_organisation_is_refused(api, event_type, other_organisation):
    # given
    event_type("invoice.paid")

    # when
    response = api.post(
        "/api/events/", {"type": "invoice.paid", "payload": {}, "organisation": "globex"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "organisation": ["You are not a member of an organisation with slug 'globex'."]
    }
    assert not Event.objects.exists()


def test_emit_is_throttled_by_its_own_rate(api, event_type, settings):
    # given
    event_type("invoice.paid")
    settings.HOOKLINE = {**settings.HOOKLINE, "API_EMIT_RATE": "2/minute", "API_WRITE_RATE": ""}
    body = {"type": "invoice.paid", "payload": {}}

    # when
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "emit"}}
    ):
        codes = [api.post("/api/events/", body, format="json").status_code for _ in range(3)]
        refused = api.post("/api/events/", body, format="json")

    # then
    assert codes == [202, 202, 429]
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
