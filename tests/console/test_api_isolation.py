"""Tenant isolation: a member of another organisation gets 404 for every object route, and sees none of it in lists."""

from __future__ import annotations

import pytest
from django.utils import timezone

from deliveries.models import Delivery
from hooks.models import Webhook

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_dns")]

OBJECT_ROUTES = [
    ("get", "/api/webhooks/{webhook}/", None),
    ("put", "/api/webhooks/{webhook}/", {"url": "https://example.com/stolen"}),
    ("patch", "/api/webhooks/{webhook}/", {"enabled": False}),
    ("delete", "/api/webhooks/{webhook}/", None),
    ("delete", "/api/webhooks/{webhook}/?force=false", None),
    ("post", "/api/webhooks/{webhook}/test/", None),
    ("post", "/api/webhooks/{webhook}/rotate-secret/", None),
    ("post", "/api/webhooks/{webhook}/recover/", {"since": "2020-01-01T00:00:00Z"}),
    ("get", "/api/deliveries/{delivery}/", None),
    ("post", "/api/deliveries/{delivery}/redeliver/", None),
]


@pytest.fixture
def acme_objects(make_webhook, make_delivery):
    """Acme's endpoint (with a failed delivery) that Globex's member bob must not reach."""
    webhook, secret = make_webhook("https://acme.example.com/hook")
    delivery = make_delivery(webhook, status="failed", attempts=[500])
    return {"webhook": webhook.id, "delivery": delivery.id, "event": delivery.event_id, "secret": secret}


@pytest.mark.parametrize("method, path, body", OBJECT_ROUTES, ids=[f"{m} {p}" for m, p, _ in OBJECT_ROUTES])
def test_another_organisations_object_is_404(client_for, outsider, acme_objects, method, path, body):
    # given
    bob = client_for(outsider)
    before = Webhook.objects.values_list("id", "url", "state", "secret_encrypted").get()

    # when
    response = getattr(bob, method)(path.format(**acme_objects), body, format="json")

    # then
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert Webhook.objects.values_list("id", "url", "state", "secret_encrypted").get() == before
    assert Delivery.objects.get().status == "failed"


@pytest.mark.parametrize(
    "path",
    [
        "/api/webhooks/",
        "/api/webhooks/?state=new",
        "/api/deliveries/",
        "/api/deliveries/?webhook={webhook}",
        "/api/deliveries/?event={event}",
    ],
)
def test_lists_show_only_ones_own_organisations(client_for, outsider, acme_objects, path):
    # given
    bob = client_for(outsider)

    # when
    body = bob.get(path.format(**acme_objects)).json()

    # then
    assert (body["count"], body["results"]) == (0, [])


def test_the_owner_sees_what_the_outsider_cannot(api, acme_objects):
    # then
    assert api.get(f"/api/webhooks/{acme_objects['webhook']}/").status_code == 200
    assert api.get(f"/api/deliveries/{acme_objects['delivery']}/").status_code == 200
    assert api.get("/api/deliveries/").json()["count"] == 1


def test_token_validation_does_not_confirm_another_organisations_messages(api, client_for, outsider, acme_objects):
    # given
    body = {"webhook_id": acme_objects["event"], "signature": "v1,sig1"}

    # when
    outsider_answer = client_for(outsider).post("/api/tokens/validate/", body, format="json")
    owner_answer = api.post("/api/tokens/validate/", body, format="json")

    # then
    assert outsider_answer.json()["valid"] is False
    assert owner_answer.json()["valid"] is True


def test_emit_and_create_cannot_target_another_organisation(client_for, outsider, organisation, event_type):
    # given
    event_type("invoice.paid")
    bob = client_for(outsider)

    # when
    emitted = bob.post("/api/events/", {"type": "invoice.paid", "payload": {}, "organisation": "acme"}, format="json")
    created = bob.post("/api/webhooks/", {"url": "https://example.com/x", "organisation": "acme"}, format="json")
    own = bob.post("/api/events/", {"type": "invoice.paid", "payload": {}}, format="json")

    # then
    assert emitted.status_code == created.status_code == 400
    assert "not a member" in emitted.json()["detail"] and "not a member" in created.json()["detail"]
    assert own.json()["organisation"] == "globex"


def test_moving_an_endpoint_to_a_foreign_organisation_is_refused(api, make_webhook, other_organisation):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    response = api.patch(f"/api/webhooks/{webhook.id}/", {"organisation": "globex"}, format="json")

    # then
    assert response.status_code == 400
    webhook.refresh_from_db()
    assert webhook.organisation.slug == "acme"


def test_a_superuser_sees_every_organisation(client_for, django_user_model, acme_objects):
    # given
    root = client_for(django_user_model.objects.create_superuser("root", password="pw"))

    # then
    assert root.get(f"/api/webhooks/{acme_objects['webhook']}/").status_code == 200
    assert root.get("/api/deliveries/").json()["count"] == 1


def test_a_recover_since_now_touches_nothing_of_ones_own(api, acme_objects):
    # when
    response = api.post(
        f"/api/webhooks/{acme_objects['webhook']}/recover/", {"since": timezone.now().isoformat()}, format="json"
    )

    # then
    assert response.json() == {"requeued": 0}
