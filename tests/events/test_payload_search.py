"""Finding events and deliveries by a payload field: events.search, the API filters and the admin search box."""

import pytest
from django.urls import reverse

import events
from deliveries import fanout
from events import search

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "parts", "values"),
    [
        ("data.notice.id = 42", ("notice", "id"), [42, "42"]),
        ("notice.id=42", ("notice", "id"), [42, "42"]),
        ('notice.title = "Big sale"', ("notice", "title"), ["Big sale"]),
        ("notice.title = Big sale", ("notice", "title"), ["Big sale"]),
        ("flag = true", ("flag",), [True]),
    ],
)
def test_parse(text, parts, values):
    assert search.parse(text) == (parts, values)


@pytest.mark.parametrize("text", ["notice.id", "notice..id = 1", " = 1", "a = [1]"])
def test_malformed_searches_are_refused(text):
    with pytest.raises(search.InvalidSearch):
        search.parse(text)


@pytest.fixture
def notices(event_type, organisation, make_webhook):
    event_type("notice.published")
    _webhook, _ = make_webhook("http://127.0.0.1:9/a")
    emitted = [
        events.emit("notice.published", {"notice": {"id": 42, "title": "Big sale"}}, organisation=organisation),
        events.emit(
            "notice.published", {"notice": {"id": "42", "title": "Same id as a string"}}, organisation=organisation
        ),
        events.emit("notice.published", {"notice": {"id": 7, "title": "Other"}}, organisation=organisation),
        events.emit("notice.published", {"id": 42}, organisation=organisation),
    ]
    fanout.fan_out([event.id for event in emitted])
    return emitted


def test_api_filters_events_and_deliveries_by_payload(api, notices):
    wanted = {notices[0].id, notices[1].id}
    listed = api.get("/api/events/", {"payload": "data.notice.id = 42"})
    assert listed.status_code == 200, listed.content
    assert {event["id"] for event in listed.json()["results"]} == wanted
    deliveries = api.get("/api/deliveries/", {"payload": "notice.id=42"}).json()["results"]
    assert {delivery["event"] for delivery in deliveries} == wanted
    titled = api.get("/api/events/", {"payload": 'notice.title = "Big sale"'}).json()["results"]
    assert [event["id"] for event in titled] == [notices[0].id]
    refused = api.get("/api/events/", {"payload": "notice.id"})
    assert refused.status_code == 400 and "path = value" in refused.content.decode()


def test_other_tenants_events_are_not_found(client_for, outsider, notices):
    listed = client_for(outsider).get("/api/events/", {"payload": "notice.id = 42"}).json()
    assert listed["results"] == []


def test_admin_search_boxes_take_a_payload_field(admin_client, notices):
    for url in (reverse("admin:events_event_changelist"), reverse("admin:deliveries_delivery_changelist")):
        response = admin_client.get(url, {"q": "data.notice.id = 42"})
        assert response.status_code == 200
        shown = {getattr(row, "event_id", None) or row.id for row in response.context["cl"].result_list}
        assert shown == {notices[0].id, notices[1].id}
