"""Property-based fuzzing of the admin (Hypothesis): every add and change form, changelist (search, filters, ordering)
and
object URL gets hostile values; no 5xx, and a refused form stores nothing.

Runs on SQLite and on PostgreSQL (marker ``postgres``); HOOKLINE_FUZZ_EXAMPLES sets the examples per surface.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliveries.models import Delivery
from events.models import Event, EventType, Organisation, ScheduledEvent
from hooks.models import Webhook
from tests.support import fuzzing

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXAMPLES = fuzzing.examples()
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=fuzzing.deterministic(),
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Text a form field may receive: strings (NUL, long, numbers the JSON boxes parse) and JSON text for the JSON boxes.
FORM_VALUES = [
    *fuzzing.URL_STRINGS,
    '{"a": "\\u0000"}',
    '{"a": "\\ud800"}',
    '{"\\u0000": 1}',
    "NaN",
    "Infinity",
    '{"a": 1e999}',
    "[1e999]",
    "[" * 100,
    '{"path": "a\\u0000", "eq": 1}',
    '{"path": "a", "in": [NaN]}',
    '{"path": "a", "eq": "\\ud800"}',
    '{"body": {"shape": "template", "template": {"a": "{{data}}{{data}}{{data}}{{data}}{{data}}"}}}',
    '{"policy": {"attempts": 1e999}}',
    '{"X-A": "\\u0000"}',
    '{"X-A": "v\\r\\nInjected: 1"}',
    "*/99999999 * * * *",
]

ADD_FORMS = {
    "/admin/hooks/webhook/add/": lambda org: {
        "organisation": org.pk,
        "name": "fuzzed",
        "url": "https://example.com/in",
        "event_types": "*",
        "condition": "",
        "headers": "{}",
        "body_template": "",
        "body_constants": "",
        "standard_signature": "on",
    },
    "/admin/events/scheduledevent/add/": lambda org: {
        "name": "fuzzed",
        "organisation": org.pk,
        "event_type": "invoice.paid",
        "cron": "0 4 * * *",
        "timezone": "UTC",
        "payload": '{"a": 1}',
        "payload_function": "",
        "missed_runs": "skip",
        "enabled": "on",
    },
    "/admin/events/eventtype/add/": lambda org: {
        "key": "fuzz.made",
        "description": "d",
        "schema": '{"type": "object"}',
    },
    "/admin/events/organisation/add/": lambda org: {"name": "Fuzz", "slug": "fuzz"},
}
CHANGELISTS = [
    "/admin/hooks/webhook/",
    "/admin/deliveries/delivery/",
    "/admin/events/event/",
    "/admin/events/eventtype/",
    "/admin/events/scheduledevent/",
    "/admin/events/organisation/",
]
PARAMETERS = [
    "q",
    "o",
    "p",
    "state",
    "status",
    "event_type",
    "organisation",
    "webhook",
    "created_at__gte",
    "e",
    "_facets",
    "all",
    "enabled",
    "deprecated",
]


def _stored() -> tuple:
    return (
        Webhook.objects.count(),
        Event.objects.count(),
        ScheduledEvent.objects.count(),
        EventType.objects.count(),
        Organisation.objects.count(),
        Delivery.objects.count(),
        sorted(map(repr, Webhook.objects.values_list("name", "url", "condition", "contract", "event_types"))),
        sorted(map(repr, ScheduledEvent.objects.values_list("name", "cron", "payload"))),
    )


@pytest.fixture
def site(admin_client, organisation, event_type, make_webhook, make_delivery, public_dns):
    """A superuser's admin with one of each object to edit."""
    event_type("invoice.paid")
    webhook, _ = make_webhook("https://example.com/existing")
    make_delivery(webhook, status="failed", attempts=[500])
    schedule = ScheduledEvent.objects.create(
        name="s", organisation=organisation, event_type="invoice.paid", cron="0 4 * * *", payload={"a": 1}
    )
    changes = {
        f"/admin/hooks/webhook/{webhook.pk}/change/": ADD_FORMS["/admin/hooks/webhook/add/"](organisation),
        f"/admin/events/scheduledevent/{schedule.pk}/change/": ADD_FORMS["/admin/events/scheduledevent/add/"](
            organisation
        ),
        "/admin/events/eventtype/invoice.paid/change/": {"key": "invoice.paid", "description": "d", "schema": ""},
        f"/admin/events/organisation/{organisation.pk}/change/": {"name": "Acme", "slug": "acme"},
    }
    return admin_client, organisation, changes


def _refused(response) -> bool:
    return response.status_code == 200 and bool(response.context and response.context.get("errors"))


@pytest.mark.parametrize(
    "form", [*ADD_FORMS, "change:webhook", "change:scheduledevent", "change:eventtype", "change:organisation"]
)
@FUZZ_SETTINGS
@given(data=st.data())
def test_every_admin_form_refuses_hostile_values_without_a_5xx_and_stores_nothing(site, form, data):
    # given: the form's valid values, one of them hostile
    client, organisation, changes = site
    if form.startswith("change:"):
        url, values = next((url, dict(values)) for url, values in changes.items() if f"/{form[7:]}/" in url)
    else:
        url, values = form, ADD_FORMS[form](organisation)
    field = data.draw(st.sampled_from(sorted(values)), label="field")
    values[field] = data.draw(
        st.sampled_from(FORM_VALUES) | st.text(st.characters(exclude_categories=["Cs"]), max_size=20), label="value"
    )
    before = _stored()
    # when
    with fuzzing.counted("admin") as count:
        response = client.post(url, values)
        count(response.status_code)
    # then
    assert response.status_code < 500, (url, field, values[field][:200])
    assert response.status_code in (200, 302, 400, 404), (url, field, response.status_code)
    if _refused(response) or response.status_code >= 400:
        assert _stored() == before, (url, field, values[field][:200])


@pytest.mark.parametrize("changelist", CHANGELISTS)
@FUZZ_SETTINGS
@given(data=st.data())
def test_every_changelist_takes_hostile_search_filters_and_ordering_without_a_5xx(site, changelist, data):
    client, _, _ = site
    query = {
        data.draw(st.sampled_from(PARAMETERS), label="parameter"): data.draw(fuzzing.hostile_strings(), label="value")
    }
    with fuzzing.counted("admin") as count:
        response = client.get(changelist + "?" + urlencode(query))
        count(response.status_code)
    assert response.status_code in (200, 302, 400), (changelist, query, response.status_code)


@pytest.mark.parametrize(
    "model",
    [
        "hooks/webhook",
        "events/event",
        "deliveries/delivery",
        "events/eventtype",
        "events/scheduledevent",
        "events/organisation",
    ],
)
@FUZZ_SETTINGS
@given(data=st.data())
def test_every_object_url_takes_a_hostile_key_without_a_5xx(site, model, data):
    client, _, _ = site
    key = data.draw(fuzzing.hostile_strings(path_key=True), label="key")
    page = data.draw(st.sampled_from(["change", "history", "delete"]), label="page")
    with fuzzing.counted("admin") as count:
        response = client.get(f"/admin/{model}/{quote(key, safe='')}/{page}/")
        count(response.status_code)
    assert response.status_code in (200, 302, 404), (model, key, page, response.status_code)
