"""The endpoint form: alert contacts (checked by hooks.services), and the catalog with an example payload per type."""

from __future__ import annotations

import pytest

from hooks.models import Webhook

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"  # never called: the tests send nothing


def test_alert_contacts_are_set_on_create_and_edit(portal_client, event_type, organisation):
    # given
    event_type("invoice.paid")
    client = portal_client()

    # when
    client.post(
        "/webhooks/endpoints/new/",
        {
            "url": URL,
            "name": "Billing",
            "event_types": ["invoice.paid"],
            "contact_emails": " ops@acme.test ;dev@acme.test",
        },
    )
    webhook = Webhook.objects.get(organisation=organisation)
    form = client.get(f"/webhooks/endpoints/{webhook.pk}/edit/").content.decode()
    edited = client.post(
        f"/webhooks/endpoints/{webhook.pk}/edit/",
        {"url": URL, "name": "Billing", "event_types": ["invoice.paid"], "contact_emails": "oncall@acme.test"},
    )

    # then: stored as hooks.services normalises them (the admin's and the API's rule), shown on the endpoint
    assert 'value="ops@acme.test, dev@acme.test"' in form
    assert edited.status_code == 302
    webhook.refresh_from_db()
    assert webhook.contact_emails == "oncall@acme.test"
    assert "oncall@acme.test" in client.get(f"/webhooks/endpoints/{webhook.pk}/").content.decode()


@pytest.mark.parametrize(
    "contacts, words",
    [
        ("ops@acme.test, not-an-address", "is not an email address"),
        ("ops@acme.test\x00", "Null characters are not allowed"),
        ("a@b.test, " * 60, "at most 500 characters"),
    ],
    ids=["not-an-address", "nul", "too-long"],
)
def test_bad_alert_contacts_are_refused_on_their_field(portal_client, event_type, organisation, contacts, words):
    # given
    event_type("invoice.paid")
    client = portal_client()

    # when
    answer = client.post(
        "/webhooks/endpoints/new/", {"url": URL, "event_types": ["invoice.paid"], "contact_emails": contacts}
    )

    # then: the form again, the reason under the field, nothing stored
    html = answer.content.decode()
    assert answer.status_code == 200 and words.lower() in html.lower()
    assert html.index("id_contact_emails") < html.index('class="errors"')
    assert not Webhook.objects.filter(organisation=organisation).exists()


def test_no_contacts_field_when_the_site_sends_no_alert_email(portal_client, settings):
    settings.HOOKLINE = {**settings.HOOKLINE, "ALERT_EMAILS": False}

    form = portal_client().get("/webhooks/endpoints/new/").content.decode()

    assert "contact_emails" not in form


def test_the_catalog_shows_an_example_payload_per_event_type(portal_client, event_type):
    # given: a type whose schema has its own example, one with a schema only, one without a schema
    event_type(
        "invoice.paid",
        schema={"type": "object", "examples": [{"invoice": 42, "amount": "9.90"}]},
    )
    event_type(
        "user.created",
        schema={"type": "object", "properties": {"user": {"type": "integer"}, "email": {"type": "string"}}},
    )
    event_type("order.shipped")
    client = portal_client()

    # when
    for page in ("/webhooks/endpoints/new/", "/webhooks/event-types/"):
        html = client.get(page).content.decode()

        # then
        assert "&quot;amount&quot;: &quot;9.90&quot;" in html  # the schema's own example, as JSON
        assert "Example payload (made from the schema)" in html
        assert "&quot;email&quot;: &quot;customer@example.com&quot;" in html
        assert "No schema: the payload is a JSON object of any shape." in html
