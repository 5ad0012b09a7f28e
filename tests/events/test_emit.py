"""emit() and emit_many(): validation at the call site, the outbox row, on-commit dispatch, idempotency."""

import datetime
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

import events
from events import outbox
from events.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(monkeypatch):
    """Records the wake-ups the outbox publishes (inline, not from its thread) instead of sending them."""
    calls = []
    monkeypatch.setattr(outbox, "_dispatcher", lambda: calls.append("wake-up"))
    monkeypatch.setattr(outbox, "_background", False)
    return calls


def test_emit_stores_an_event_and_dispatches_on_commit(
    event_type, organisation, dispatched, django_capture_on_commit_callbacks
):
    # given
    event_type("invoice.paid")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        event = events.emit("invoice.paid", {"invoice": 42, "amount": Decimal("9.90")}, organisation=organisation)
    # then
    assert event.id.startswith("msg_") and len(event.id) == 30
    stored = Event.objects.get(id=event.id)
    assert stored.payload == {"invoice": 42, "amount": "9.90"}
    assert stored.organisation == organisation and stored.dispatched_at is None
    assert dispatched == ["wake-up"]


def test_nothing_is_dispatched_before_commit_or_after_rollback(
    event_type, dispatched, django_capture_on_commit_callbacks
):
    event_type("invoice.paid")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.emit("invoice.paid", {"invoice": 1})
    assert dispatched == [] and len(callbacks) == 1

    with (
        pytest.raises(RuntimeError),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        events.emit("invoice.paid", {"invoice": 2})
        raise RuntimeError
    assert callbacks == [] and dispatched == []


def test_unknown_event_type_raises_and_writes_nothing():
    with pytest.raises(events.UnknownEventType, match=re.escape("'nope.never'")):
        events.emit("nope.never", {})
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "payload, message",
    [
        ([1, 2], "must be a JSON object"),
        ("text", "must be a JSON object"),
        ({"when": object()}, "not JSON-serialisable"),
        ({"blob": "x" * 2000}, "limit"),
    ],
)
def test_bad_payloads_raise_invalid_payload_and_write_nothing(event_type, payload, message):
    event_type("invoice.paid")
    with override_settings(HOOKLINE={"MAX_PAYLOAD_BYTES": 1000}), pytest.raises(events.InvalidPayload, match=message):
        events.emit("invoice.paid", payload)
    assert not Event.objects.exists()


def test_django_json_encoder_types_are_accepted(event_type):
    event_type("invoice.paid")
    event = events.emit("invoice.paid", {"at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), "n": Decimal("1.5")})
    assert Event.objects.get(id=event.id).payload == {"at": "2026-01-01T00:00:00Z", "n": "1.5"}


def test_payload_must_match_the_event_types_schema(event_type):
    event_type(
        "invoice.paid",
        schema={
            "type": "object",
            "required": ["invoice"],
            "properties": {"invoice": {"type": "integer"}},
        },
    )
    events.emit("invoice.paid", {"invoice": 1})
    with pytest.raises(events.InvalidPayload, match="invoice"):
        events.emit("invoice.paid", {"invoice": "one"})
    with pytest.raises(events.InvalidPayload, match="required"):
        events.emit("invoice.paid", {})
    assert Event.objects.count() == 1


def test_sub_keys_need_a_type_that_accepts_them(event_type):
    event_type("HM_EmployeeHistoryDivision_Created", accepts_subkeys=True)
    event_type("invoice.paid")
    assert events.emit("HM_EmployeeHistoryDivision_Created.1001", {}).type == "HM_EmployeeHistoryDivision_Created.1001"
    with pytest.raises(events.UnknownEventType):
        events.emit("invoice.paid.1001", {})


def test_a_type_created_elsewhere_is_found_at_once():
    events.emit("webhook.test", {})  # loads the cache
    EventType.objects.bulk_create([EventType(key="fresh.type")])  # no signal: as if from another process
    assert events.emit("fresh.type", {}).type == "fresh.type"


def test_idempotency_key_returns_the_first_event_within_the_window(event_type, organisation, other_organisation):
    event_type("invoice.paid")
    first = events.emit("invoice.paid", {"n": 1}, organisation=organisation, idempotency_key="inv-42")
    again = events.emit("invoice.paid", {"n": 2}, organisation=organisation, idempotency_key="inv-42")
    elsewhere = events.emit("invoice.paid", {"n": 3}, organisation=other_organisation, idempotency_key="inv-42")
    untenanted = events.emit("invoice.paid", {"n": 4}, idempotency_key="inv-42")
    untenanted_again = events.emit("invoice.paid", {"n": 5}, idempotency_key="inv-42")
    assert again.id == first.id and again.payload == {"n": 1}
    assert elsewhere.id != first.id
    assert untenanted_again.id == untenanted.id
    assert Event.objects.count() == 3


def test_idempotency_key_is_free_again_after_the_window(event_type):
    event_type("invoice.paid")
    first = events.emit("invoice.paid", {"n": 1}, idempotency_key="k")
    Event.objects.filter(id=first.id).update(created_at=first.created_at - timedelta(hours=25))
    second = events.emit("invoice.paid", {"n": 2}, idempotency_key="k")
    assert second.id != first.id
    assert Event.objects.get(id=first.id).idempotency_key is None


def test_emit_many_inserts_in_one_query_and_dispatches_once(
    event_type, organisation, dispatched, django_assert_num_queries, django_capture_on_commit_callbacks
):
    event_type("invoice.paid")
    events.emit("webhook.test", {})  # warm the catalog cache
    # SAVEPOINT, INSERT, RELEASE
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(3):
        emitted = events.emit_many([("invoice.paid", {"n": n}, organisation) for n in range(50)])
    assert len(emitted) == 50 and Event.objects.count() == 51
    assert dispatched == ["wake-up"]  # one wake-up for the whole batch


def test_emit_many_validates_everything_before_writing(event_type):
    event_type("invoice.paid")
    with pytest.raises(events.UnknownEventType):
        events.emit_many([("invoice.paid", {}), ("bogus", {})])
    assert not Event.objects.exists()


def test_emit_never_fails_when_the_broker_is_down(event_type, monkeypatch, django_capture_on_commit_callbacks):
    # given: a dispatcher that fails like a broker that refuses connections
    event_type("invoice.paid")
    calls = []

    def broken():
        calls.append("wake-up")
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(outbox, "_dispatcher", broken)
    monkeypatch.setattr(outbox, "_background", False)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = events.emit("invoice.paid", {"n": 1})
    with django_capture_on_commit_callbacks(execute=True):
        events.emit("invoice.paid", {"n": 2})
    # then: both are stored for the sweeper; the second did not even try (back-off)
    assert Event.objects.undispatched().count() == 2
    assert calls == ["wake-up"] and first.dispatched_at is None


def test_code_declared_types_are_synced_on_migrate():
    assert (
        EventType.objects.filter(key__in=["webhook.test", "hookline.endpoint.invalid"], declared_in_code=True).count()
        == 2
    )


# --- hostile inputs: every refusal names the limit and where, and nothing is stored ---------------


def _deep(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "payload, says",
    [
        (_deep(10_000), "nested deeper than 64 levels (HOOKLINE['MAX_JSON_DEPTH'])"),  # json.dumps: RecursionError
        (_deep(200), "nested deeper than 64 levels"),
        ({"items": [{"note": "a\ud800b"}]}, "payload.items[0].note: contains a lone surrogate (\\ud800"),
        ({"\udfff": 1}, "payload (a key): contains a lone surrogate"),
        ({"note": "a\x00b"}, "payload.note: contains a NUL character"),
        ({"big": "x" * 300_000}, "payload: is 300010 bytes; the limit (HOOKLINE['MAX_PAYLOAD_BYTES']) is 262144"),
    ],
)
def test_emit_refuses_hostile_payloads_and_stores_nothing(event_type, dispatched, payload, says):
    # given
    event_type("invoice.paid")
    # when
    with pytest.raises(events.InvalidPayload) as refused:
        events.emit("invoice.paid", payload)
    with pytest.raises(events.InvalidPayload):
        events.emit_many([("invoice.paid", {"ok": 1}), ("invoice.paid", payload)])
    # then
    assert says in str(refused.value)
    assert not Event.objects.exists() and dispatched == []


def test_emit_accepts_the_depth_limit_itself_and_astral_characters(event_type, settings):
    # given
    event_type("invoice.paid")
    # when
    event = events.emit("invoice.paid", {"deep": _deep(62), "smile": "\U0001f600", "text": "\\u0000 typed"})
    # then
    assert Event.objects.get(id=event.id).payload["smile"] == "\U0001f600"
    settings.HOOKLINE = {"MAX_JSON_DEPTH": 8}
    with pytest.raises(events.InvalidPayload, match=r"payload\.deep\.a\.a\.a\.a\.a\.a\.a: is nested deeper than 8"):
        events.emit("invoice.paid", {"deep": _deep(62)})


def test_emit_refuses_an_unstorable_idempotency_key(event_type):
    event_type("invoice.paid")
    with pytest.raises(events.InvalidPayload, match="idempotency_key: contains a lone surrogate"):
        events.emit("invoice.paid", {}, idempotency_key="k\ud800")
    with pytest.raises(events.InvalidPayload, match="idempotency_key: is 201 characters long"):
        events.emit("invoice.paid", {}, idempotency_key="k" * 201)
    assert not Event.objects.exists()


def test_the_emit_command_refuses_json_nested_too_deep(event_type):
    from django.core.management import CommandError, call_command

    event_type("invoice.paid")
    with pytest.raises(CommandError, match=r"payload: the JSON is nested deeper than 64 levels"):
        call_command("emit", "invoice.paid", '{"a":' * 10_000 + "1" + "}" * 10_000)
    with pytest.raises(CommandError, match=r"lone surrogate"):
        call_command("emit", "invoice.paid", '{"a": "\\ud800"}')
    assert not Event.objects.exists()
