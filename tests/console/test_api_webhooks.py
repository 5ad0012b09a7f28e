"""The endpoints API: CRUD, filters, state rules, secrets shown once, delete with pending deliveries, actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook

from deliveries.models import Delivery
from hooks import services as endpoints
from hooks.models import Webhook
from tests.support.receiver import always

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_dns")]


# --- create ---------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_masks_the_password(api, member, organisation):
    # when
    response = api.post(
        "/api/webhooks/", {"url": "https://joe:hunter2@example.com/hook", "event_types": ["invoice.*"]}, format="json"
    )

    # then
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["url"] == "https://joe:***@example.com/hook"
    assert body["secret"].startswith("whsec_")
    assert body["organisation"] == "acme"
    assert (body["state"], body["enabled"]) == ("new", True)
    assert (body["created_by"], body["updated_by"]) == ("alice", "alice")
    assert body["name"] == "https://example.com/hook"
    webhook = Webhook.objects.get(id=body["id"])
    assert webhook.secret == body["secret"] and webhook.auth_password == "hunter2"
    again = api.get(f"/api/webhooks/{webhook.id}/").content.decode()
    assert "secret" not in api.get(f"/api/webhooks/{webhook.id}/").json()
    assert "hunter2" not in again and body["secret"] not in again


def test_create_may_start_deactivated(api):
    # when
    response = api.post("/api/webhooks/", {"url": "https://example.com/h", "enabled": False}, format="json")

    # then
    assert response.status_code == 201
    assert (response.json()["state"], response.json()["enabled"]) == ("deactivated", False)


def test_create_refuses_an_internal_url_and_says_why(api, settings):
    # given
    settings.HOOKLINE = {**settings.HOOKLINE, "ALLOW_PRIVATE_ADDRESSES": False}

    # when
    response = api.post("/api/webhooks/", {"url": "http://127.0.0.1:8080/hook"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "unsafe_url"
    assert "loopback" in response.json()["detail"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "body, code, words",
    [
        ({}, "required", "url: This field is required."),
        ({"url": "ftp://example.com/x"}, "unsafe_url", "Only http:// and https://"),
        ({"url": "https://example.com/h", "event_types": ["user.cre*"]}, "event_types", "whole segment"),
        ({"url": "https://example.com/h", "event_types": []}, "empty", "event_types: This list may not be empty."),
        ({"url": "https://example.com/h", "headers": {"webhook-id": "x"}}, "headers", "cannot be overridden"),
        ({"url": "https://example.com/h", "state": "valid"}, "state", "only be set to 'new' or 'deactivated'"),
        ({"url": "https://example.com/h", "organisation": "globex"}, "does_not_exist", "not a member"),
        ({"url": "https://example.com/h", "headers": ["x"]}, "not_a_dict", "headers:"),
    ],
)
def test_create_rejects_bad_input_with_a_clear_message(api, other_organisation, body, code, words):
    # when
    response = api.post("/api/webhooks/", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert words in response.json()["detail"]
    assert not Webhook.objects.exists()


def test_create_needs_a_choice_of_organisation_for_a_member_of_several(api, member, other_organisation):
    # given
    other_organisation.members.add(member)

    # when
    missing = api.post("/api/webhooks/", {"url": "https://example.com/h"}, format="json")
    chosen = api.post("/api/webhooks/", {"url": "https://example.com/h", "organisation": "globex"}, format="json")

    # then
    assert missing.status_code == 400
    assert missing.json()["fields"]["organisation"] == ["Required: you belong to several organisations (acme, globex)."]
    assert chosen.status_code == 201 and chosen.json()["organisation"] == "globex"


def test_a_user_without_organisation_cannot_create(client_for, django_user_model):
    # given
    loner = client_for(django_user_model.objects.create_user("loner"))

    # when
    response = loner.post("/api/webhooks/", {"url": "https://example.com/h"}, format="json")

    # then
    assert response.status_code == 400
    assert "no organisation" in response.json()["detail"]


def test_json_is_required(api):
    # when
    response = api.post("/api/webhooks/", "url=https://example.com/h", content_type="application/x-www-form-urlencoded")

    # then
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- list and filters -----------------------------------------------------------------------


def test_list_paginates_with_a_total_count(api, make_webhook):
    # given
    for n in range(3):
        make_webhook(f"https://example.com/{n}")

    # when
    first = api.get("/api/webhooks/?page_size=2").json()
    second = api.get(first["next"]).json()

    # then
    assert first["count"] == 3 and len(first["results"]) == 2
    assert len(second["results"]) == 1 and second["next"] is None


def test_list_hides_deactivated_endpoints_unless_asked(api, make_webhook):
    # given
    live, _ = make_webhook("https://example.com/live")
    off, _ = make_webhook("https://example.com/off")
    endpoints.disable(off)

    # when
    default = api.get("/api/webhooks/").json()
    asked = api.get("/api/webhooks/?state=deactivated").json()

    # then
    assert [w["id"] for w in default["results"]] == [live.id]
    assert [w["id"] for w in asked["results"]] == [off.id]


def test_list_filters_by_state_time_and_search(api, make_webhook):
    # given
    old, _ = make_webhook("https://old.example.com/h", name="Billing")
    Webhook.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=3))
    new, _ = make_webhook("https://new.example.com/h", name="CRM")
    Webhook.objects.filter(id=new.id).update(state=Webhook.State.VALID)
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    def ids(query):
        response = api.get("/api/webhooks/", query)
        assert response.status_code == 200, response.json()
        return [w["id"] for w in response.json()["results"]]

    # then
    assert ids({"state": "valid"}) == [new.id]
    assert ids({"state": "new"}) == [old.id]
    assert ids({"created_after": yesterday}) == [new.id]
    assert ids({"created_before": yesterday}) == [old.id]
    assert ids({"search": "billing"}) == [old.id]
    assert ids({"search": "new.example"}) == [new.id]


@pytest.mark.parametrize(
    "query",
    [
        "state=sleeping",
        "created_after=yesterday",
        "created_before=2024-13-01",
        "created_before=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_list_rejects_bad_filters(api, query):
    # when
    response = api.get(f"/api/webhooks/?{query}")

    # then
    assert response.status_code == 400
    assert response.json()["fields"]


def test_a_page_past_the_end_is_404(api, make_webhook):
    # given
    make_webhook("https://example.com/h")

    # when
    response = api.get("/api/webhooks/?page=9")

    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- read and edit --------------------------------------------------------------------------


def test_edit_through_update_webhook_records_the_editor(api, make_webhook, member):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    response = api.patch(f"/api/webhooks/{webhook.id}/", {"name": "Renamed", "event_types": ["a.b"]}, format="json")

    # then
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["event_types"], response.json()["updated_by"]) == (
        "Renamed",
        ["a.b"],
        "alice",
    )
    webhook.refresh_from_db()
    assert webhook.updated_by == member


def test_a_new_url_puts_the_endpoint_back_to_new(api, make_webhook):
    # given
    webhook, _ = make_webhook("https://example.com/h")
    Webhook.objects.filter(id=webhook.id).update(state=Webhook.State.VALID)

    # when
    response = api.patch(f"/api/webhooks/{webhook.id}/", {"url": "https://u:pw@example.com/new"}, format="json")

    # then
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["url"]) == ("new", "https://u:***@example.com/new")


def test_put_replaces_the_settings(api, make_webhook):
    # given
    webhook, _ = make_webhook("https://example.com/h", description="old")

    # when
    response = api.put(
        f"/api/webhooks/{webhook.id}/", {"url": "https://example.com/h", "description": "new"}, format="json"
    )

    # then
    assert response.status_code == 200 and response.json()["description"] == "new"


@pytest.mark.parametrize(
    "change, state", [({"enabled": False}, "deactivated"), ({"state": "deactivated"}, "deactivated")]
)
def test_enabled_and_state_switch_an_endpoint_off_and_on(api, make_webhook, change, state):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    off = api.patch(f"/api/webhooks/{webhook.id}/", change, format="json")
    on = api.patch(f"/api/webhooks/{webhook.id}/", {"enabled": True}, format="json")

    # then
    assert off.json()["state"] == state and off.json()["enabled"] is False
    assert on.json()["state"] == "new" and on.json()["enabled"] is True


@pytest.mark.parametrize("state", ["valid", "invalid"])
def test_state_writes_are_limited_to_new_and_deactivated(api, make_webhook, state):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    response = api.patch(f"/api/webhooks/{webhook.id}/", {"state": state}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "state"
    assert "'new' or 'deactivated'" in response.json()["detail"]


def test_edit_refuses_a_bad_url(api, make_webhook):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    response = api.patch(f"/api/webhooks/{webhook.id}/", {"url": "javascript:alert(1)"}, format="json")

    # then
    assert response.status_code == 400 and response.json()["code"] == "unsafe_url"
    webhook.refresh_from_db()
    assert webhook.url == "https://example.com/h"


def test_unknown_endpoint_is_404(api):
    # when
    response = api.get("/api/webhooks/999999/")

    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "No Webhook matches the given query.", "code": "not_found"}


# --- delete ---------------------------------------------------------------------------------


def test_delete_cancels_pending_deliveries_by_default(api, make_webhook, make_delivery):
    # given
    webhook, _ = make_webhook("https://example.com/h")
    make_delivery(webhook, status="pending")

    # when
    response = api.delete(f"/api/webhooks/{webhook.id}/")

    # then
    assert response.status_code == 204
    assert not Webhook.objects.exists() and not Delivery.objects.exists()


def test_delete_without_force_refuses_while_deliveries_are_pending(api, make_webhook, make_delivery):
    # given
    webhook, _ = make_webhook("https://example.com/h")
    make_delivery(webhook, status="pending")

    # when
    refused = api.delete(f"/api/webhooks/{webhook.id}/?force=false")

    # then
    assert refused.status_code == 409
    assert refused.json()["code"] == "pending_deliveries"
    assert Webhook.objects.filter(id=webhook.id).exists()


def test_delete_without_force_goes_ahead_when_nothing_is_pending(api, make_webhook, make_delivery):
    # given
    webhook, _ = make_webhook("https://example.com/h")
    make_delivery(webhook, status="succeeded", attempts=[200])

    # when
    response = api.delete(f"/api/webhooks/{webhook.id}/?force=false")

    # then
    assert response.status_code == 204


def test_delete_rejects_a_force_that_is_not_a_boolean(api, make_webhook):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    response = api.delete(f"/api/webhooks/{webhook.id}/?force=maybe")

    # then
    assert response.status_code == 400 and "force" in response.json()["fields"]


# --- actions --------------------------------------------------------------------------------


def test_test_action_sends_a_signed_ping_and_proves_the_endpoint(api, make_webhook, receiver):
    # given
    webhook, secret = make_webhook(receiver.on("/ok", always(200)))

    # when
    response = api.post(f"/api/webhooks/{webhook.id}/test/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["succeeded"], body["state"]) == (True, "valid")
    assert body["attempt"]["response_status"] == 200
    request = receiver.at("/ok")[0]
    assert StandardWebhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
    assert api.get(f"/api/deliveries/{body['delivery']}/").json()["event_type"] == "webhook.test"


def test_a_failing_test_makes_the_endpoint_invalid(api, make_webhook, receiver):
    # given
    webhook, _ = make_webhook(receiver.on("/down", always(503)))

    # when
    body = api.post(f"/api/webhooks/{webhook.id}/test/").json()

    # then
    assert (body["succeeded"], body["state"]) == (False, "invalid")
    assert body["attempt"]["response_status"] == 503


def test_rotate_secret_returns_the_new_secret_and_keeps_the_old_one_signing(api, make_webhook):
    # given
    webhook, old = make_webhook("https://example.com/h")

    # when
    response = api.post(f"/api/webhooks/{webhook.id}/rotate-secret/")

    # then
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != old
    webhook.refresh_from_db()
    assert webhook.signing_secrets() == [new, old]
    assert response.json()["previous_secret_expires_at"]


def test_a_body_token_is_shown_once_at_create_imported_or_rotated(api):
    # when: a store-notice endpoint is created (its body carries {{secret.token}}), and a plain one
    created = api.post(
        "/api/webhooks/", {"url": "https://example.com/n", "contract": {"preset": "store-notice"}}, format="json"
    ).json()
    plain = api.post("/api/webhooks/", {"url": "https://example.com/p"}, format="json").json()

    # then: the token is in the create answer only
    webhook = Webhook.objects.get(id=created["id"])
    assert created["body_token"] == webhook.body_token and plain["body_token"] is None
    again = api.get(f"/api/webhooks/{webhook.id}/").content.decode()
    assert "body_token" not in again and created["body_token"] not in again

    # when: rotated (generated, then imported)
    rotated = api.post(f"/api/webhooks/{webhook.id}/rotate-body-token/").json()
    imported = api.post(
        f"/api/webhooks/{webhook.id}/rotate-body-token/", {"body_token": "tok-5f2b9c-0123456789"}, format="json"
    ).json()

    # then
    webhook.refresh_from_db()
    assert rotated["body_token"].startswith("whtok_") and rotated["previous_body_token_expires_at"]
    assert imported["body_token"] == "tok-5f2b9c-0123456789"
    assert webhook.body_tokens() == ["tok-5f2b9c-0123456789", rotated["body_token"]]
    refused = api.post(f"/api/webhooks/{webhook.id}/rotate-body-token/", {"body_token": "x y"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "body_token"
    edit = api.patch(f"/api/webhooks/{webhook.id}/", {"body_token": "tok-5f2b9c-0123456789"}, format="json")
    assert edit.status_code == 400 and "rotate-body-token" in edit.json()["detail"]


def test_create_imports_a_body_token(api):
    created = api.post(
        "/api/webhooks/",
        {"url": "https://example.com/n", "contract": {"preset": "store-notice"}, "body_token": "tok-5f2b9c-0123456789"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["body_token"] == "tok-5f2b9c-0123456789"


def test_recover_requeues_failed_deliveries_since_a_time(api, make_webhook, make_delivery):
    # given
    webhook, _ = make_webhook("https://example.com/h")
    recent = make_delivery(webhook, status="failed", attempts=[500])
    make_delivery(webhook, status="failed", attempts=[500], created_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    # when
    response = api.post(f"/api/webhooks/{webhook.id}/recover/", {"since": since}, format="json")

    # then
    assert response.status_code == 202 and response.json() == {"requeued": 1}
    recent.refresh_from_db()
    assert recent.status == "pending"


def test_recover_needs_a_since(api, make_webhook):
    # given
    webhook, _ = make_webhook("https://example.com/h")

    # when
    response = api.post(f"/api/webhooks/{webhook.id}/recover/", {}, format="json")

    # then
    assert response.status_code == 400 and response.json()["fields"] == {"since": ["This field is required."]}


def test_recover_refuses_on_a_deactivated_endpoint(api, make_webhook):
    # given
    webhook, _ = make_webhook("https://example.com/h")
    api.patch(f"/api/webhooks/{webhook.id}/", {"enabled": False}, format="json")

    # when
    response = api.post(f"/api/webhooks/{webhook.id}/recover/", {"since": timezone.now().isoformat()}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "endpoint_not_receiving"
