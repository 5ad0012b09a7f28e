"""The admin: endpoint pages and actions, the delivery inspector, the event log, tenancy, query counts."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import events
from deliveries import delivering, fanout, messages
from deliveries.models import Delivery
from deliveries.transport import TransportResult
from events.models import Event, Organisation
from hooks.models import Webhook
from tests.support.receiver import always

pytestmark = pytest.mark.django_db

WEBHOOKS = reverse("admin:hooks_webhook_changelist")
DELIVERIES = reverse("admin:deliveries_delivery_changelist")
EVENTS = reverse("admin:events_event_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def object_action_url(obj, action: str) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_object_action", args=[obj.pk, action])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def staff_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def make_delivery(event_type):
    """``make_delivery(webhook, status="failed", created_at=...)``: an event and its delivery to ``webhook``."""
    event_type("invoice.paid")

    def create(webhook: Webhook, *, status: str = "succeeded", created_at=None, payload=None, key="invoice.paid"):
        now = created_at or timezone.now()
        event = Event.objects.create(
            type=key,
            payload=payload or {"invoice": 42},
            organisation=webhook.organisation,
            created_at=now,
            dispatched_at=now,
        )
        return Delivery.objects.create(
            event=event,
            webhook=webhook,
            status=status,
            created_at=now,
            completed_at=None if status == "pending" else now,
        )

    return create


def attempt(delivery: Delivery, result: TransportResult) -> None:
    """Log one attempt exactly as the worker does (signed request, masked headers, retry decision)."""
    delivery = Delivery.objects.select_related("event", "webhook").get(pk=delivery.pk)
    request = messages.build_request(
        delivery.event, delivery.webhook, messages.envelope(delivery.event, delivery.event.type, delivery.event.payload)
    )
    delivering.record([delivering.Sent(delivery, request, result)])


# --- endpoints: create, edit, secrets ---------------------------------------------------------


def test_create_shows_the_secret_once_and_records_the_creator(staff_client, operator, organisation):
    # when
    response = staff_client.post(
        reverse("admin:hooks_webhook_add"),
        {
            "organisation": organisation.pk,
            "name": "Billing",
            "description": "",
            "url": "http://bob:pw-123@127.0.0.1:9/in",
            "event_types": "invoice.*\nwebhook.test",
            "headers": "{}",
            "standard_signature": "on",
            "shared_secret_header": "",
            "payload_version": "",
            "proxy_url": "",
        },
    )

    # then
    webhook = Webhook.objects.get()
    page = response.content.decode()
    assert response.status_code == 200 and webhook.secret in page and "Copy this secret now" in page
    assert (webhook.url, webhook.auth_username, webhook.auth_password) == ("http://127.0.0.1:9/in", "bob", "pw-123")
    assert webhook.event_types == ["invoice.*", "webhook.test"]
    assert webhook.created_by == operator and webhook.updated_by == operator and webhook.state == "new"
    assert "pw-123" not in page
    later = staff_client.get(change_url(webhook)).content.decode()
    assert webhook.secret not in later and "pw-123" not in later


def test_the_url_guard_explains_a_refused_url_on_the_form(staff_client, organisation, settings):
    # given
    settings.HOOKLINE = {**settings.HOOKLINE, "ALLOW_PRIVATE_ADDRESSES": False}

    # when
    response = staff_client.post(
        reverse("admin:hooks_webhook_add"),
        {
            "organisation": organisation.pk,
            "url": "http://127.0.0.1/in",
            "event_types": "*",
            "headers": "{}",
        },
    )

    # then
    assert response.status_code == 200
    assert "loopback" in str(response.context["adminform"].form.errors["url"])
    assert not Webhook.objects.exists()


def test_bad_patterns_and_reserved_headers_are_refused_on_their_fields(staff_client, make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    form = {"organisation": webhook.organisation_id, "name": "x", "url": webhook.url}

    response = staff_client.post(change_url(webhook), {**form, "event_types": "user.cr*", "headers": "{}"})
    assert "whole segment" in str(response.context["adminform"].form.errors["event_types"])

    response = staff_client.post(change_url(webhook), {**form, "event_types": "*", "headers": '{"webhook-id": "x"}'})
    assert "cannot be overridden" in str(response.context["adminform"].form.errors["headers"])


def test_editing_the_url_makes_the_endpoint_new_again(staff_client, operator, make_webhook):
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/old")
    Webhook.objects.filter(pk=webhook.pk).update(state="valid")

    # when
    response = staff_client.post(
        change_url(webhook),
        {
            "organisation": webhook.organisation_id,
            "name": "renamed",
            "url": "http://127.0.0.1:9/new",
            "event_types": "*",
            "headers": "{}",
            "standard_signature": "on",
        },
    )

    # then
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.name, webhook.url, webhook.state) == ("renamed", "http://127.0.0.1:9/new", "new")
    assert webhook.updated_by == operator


def test_the_form_shows_basic_auth_masked_and_keeps_it(staff_client, make_webhook):
    # given
    webhook, _ = make_webhook("http://bob:pw-123@127.0.0.1:9/in")
    Webhook.objects.filter(pk=webhook.pk).update(state="valid")
    form = staff_client.get(change_url(webhook)).context["adminform"].form
    assert form["url"].value() == "http://bob:***@127.0.0.1:9/in"

    # when: saved with the URL as shown
    staff_client.post(
        change_url(webhook),
        {
            "organisation": webhook.organisation_id,
            "name": "renamed",
            "url": "http://bob:***@127.0.0.1:9/in",
            "event_types": "*",
            "headers": "{}",
        },
    )

    # then
    webhook.refresh_from_db()
    assert (webhook.name, webhook.state, webhook.auth_username, webhook.auth_password) == (
        "renamed",
        "valid",
        "bob",
        "pw-123",
    )


def test_an_unchanged_url_keeps_the_state(staff_client, make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    Webhook.objects.filter(pk=webhook.pk).update(state="valid")

    staff_client.post(
        change_url(webhook),
        {
            "organisation": webhook.organisation_id,
            "name": "renamed",
            "url": webhook.url,
            "event_types": "*",
            "headers": "{}",
        },
    )

    webhook.refresh_from_db()
    assert (webhook.name, webhook.state) == ("renamed", "valid")


def test_rotate_secret_shows_the_new_secret_once(staff_client, make_webhook):
    # given
    webhook, old = make_webhook("http://127.0.0.1:9/in")

    # when
    response = staff_client.post(WEBHOOKS, {"action": "rotate_secret", "_selected_action": [webhook.pk]})

    # then
    webhook.refresh_from_db()
    assert response.status_code == 200 and webhook.secret != old
    assert webhook.secret in response.content.decode() and old not in response.content.decode()
    assert webhook.signing_secrets() == [webhook.secret, old]  # the old one signs during the grace period


def test_a_new_endpoints_body_token_is_shown_once_and_rotates_from_the_list(staff_client, organisation, make_webhook):
    # when: a store-notice endpoint is created in the admin (its body carries {{secret.token}})
    response = staff_client.post(
        reverse("admin:hooks_webhook_add"),
        {
            "organisation": organisation.pk,
            "name": "Store",
            "description": "",
            "url": "http://127.0.0.1:9/in",
            "event_types": "notice.*",
            "headers": "{}",
            "standard_signature": "on",
            "shared_secret_header": "",
            "payload_version": "",
            "proxy_url": "",
            "preset": "store-notice",
        },
    )

    # then: the page shows the secret and the body token, once
    webhook = Webhook.objects.get()
    page = response.content.decode()
    assert response.status_code == 200 and webhook.body_token in page and "Body token" in page
    assert webhook.body_token not in staff_client.get(change_url(webhook)).content.decode()

    # when: rotated from the list (an endpoint without a token in its body is left alone)
    plain, _ = make_webhook("http://127.0.0.1:9/plain")
    old = webhook.body_token
    response = staff_client.post(WEBHOOKS, {"action": "rotate_body_token", "_selected_action": [webhook.pk, plain.pk]})

    # then
    webhook.refresh_from_db(), plain.refresh_from_db()
    assert response.status_code == 200 and webhook.body_token in response.content.decode() and old != webhook.body_token
    assert "Copy this body token now" in response.content.decode() and not plain.body_token_encrypted
    assert webhook.body_tokens() == [webhook.body_token, old]


# --- endpoints: list and actions ----------------------------------------------------------------


def test_list_shows_masked_url_state_last_delivery_and_24h_success_rate(staff_client, make_webhook, make_delivery):
    # given
    webhook, _ = make_webhook("http://bob:pw-123@127.0.0.1:9/in", name="Billing")
    for status in ["succeeded", "succeeded", "succeeded", "failed", "pending"]:
        make_delivery(webhook, status=status, created_at=timezone.now() - timedelta(hours=1))
    make_delivery(webhook, status="failed", created_at=timezone.now() - timedelta(days=2))  # outside the window
    last = make_delivery(webhook, status="succeeded")
    Delivery.objects.filter(pk=last.pk).update(last_status_code=204)

    # when
    response = staff_client.get(WEBHOOKS)

    # then
    page = response.content.decode()
    row = response.context["cl"].result_list[0]
    assert "http://bob:***@127.0.0.1:9/in" in page and "pw-123" not in page
    assert (row.last_delivery_status, row.last_delivery_code, row.last_delivery_at) == (
        "succeeded",
        204,
        last.created_at,
    )
    assert (row.succeeded_recently, row.finished_recently) == (4, 5)
    assert "80%" in page and ">new<" in page


def test_endpoint_list_queries_do_not_grow_with_endpoints_or_deliveries(
    staff_client, make_webhook, make_delivery, django_assert_num_queries
):
    # given: one endpoint, measured
    make_delivery(make_webhook("http://127.0.0.1:9/a")[0])
    with CaptureQueriesContext(connection) as one_row:
        staff_client.get(WEBHOOKS)
    # and then fifteen endpoints with deliveries
    for n in range(14):
        webhook, _ = make_webhook(f"http://127.0.0.1:9/{n}")
        make_delivery(webhook, status="failed")
        make_delivery(webhook)

    # then
    with django_assert_num_queries(len(one_row)):
        response = staff_client.get(WEBHOOKS)
    assert len(response.context["cl"].result_list) == 15


def test_filters_by_state_organisation_and_event_type(admin_client, make_webhook, other_organisation):
    # given
    _invoices, _ = make_webhook("http://127.0.0.1:9/i", name="Invoices", event_types=["invoice.*"])
    users, _ = make_webhook("http://127.0.0.1:9/u", name="Users", event_types=["user.created"])
    _elsewhere, _ = make_webhook("http://127.0.0.1:9/g", name="Globex", organisation=other_organisation)
    Webhook.objects.filter(pk=users.pk).update(state="invalid")

    def names(query: str) -> set[str]:
        return {webhook.name for webhook in admin_client.get(WEBHOOKS + query).context["cl"].result_list}

    # then
    assert names("?state=invalid") == {"Users"}
    assert names(f"?organisation={other_organisation.pk}") == {"Globex"}
    assert names("?event_type=invoice.paid") == {"Invoices", "Globex"}  # Globex subscribes to "*"
    assert names("?q=Invoices") == {"Invoices"}


def test_enable_and_disable(staff_client, operator, make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")

    staff_client.post(WEBHOOKS, {"action": "disable", "_selected_action": [webhook.pk]})
    webhook.refresh_from_db()
    assert (webhook.state, webhook.updated_by) == ("deactivated", operator)

    staff_client.post(WEBHOOKS, {"action": "enable", "_selected_action": [webhook.pk]})
    webhook.refresh_from_db()
    assert webhook.state == "new"


def test_send_test_reports_the_answer_and_sets_the_state(staff_client, make_webhook, receiver):
    # given
    good, _ = make_webhook(receiver.on("/ok", always(200)), name="good")
    bad, _ = make_webhook(receiver.on("/down", always(503)), name="bad")

    # when
    response = staff_client.post(WEBHOOKS, {"action": "send_test", "_selected_action": [good.pk, bad.pk]}, follow=True)

    # then
    shown = " ".join(messages_of(response))
    assert "Test of “good” answered 200" in shown and "the endpoint is now valid" in shown
    assert "Test of “bad” failed: 503" in shown and "the endpoint is now invalid" in shown
    good_delivery = Delivery.objects.get(webhook=good)
    assert change_url(good_delivery) in response.content.decode()  # a link to the inspector
    assert [r.json["type"] for r in receiver.requests] == ["webhook.test", "webhook.test"]
    assert Webhook.objects.get(pk=good.pk).state == "valid" and Webhook.objects.get(pk=bad.pk).state == "invalid"


def test_recover_asks_since_when_then_requeues_those_failed_deliveries(
    staff_client, make_webhook, make_delivery, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    enqueued = []
    monkeypatch.setattr("deliveries.services._wake_for", lambda ids: enqueued.extend(ids))
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    recent = make_delivery(webhook, status="failed", created_at=timezone.now() - timedelta(hours=2))
    old = make_delivery(webhook, status="failed", created_at=timezone.now() - timedelta(days=3))

    # when: the action first asks
    asked = staff_client.post(WEBHOOKS, {"action": "recover_failed", "_selected_action": [webhook.pk]})
    assert asked.status_code == 200 and "Failed since (UTC)" in asked.content.decode()
    since = (timezone.now() - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            WEBHOOKS,
            {
                "action": "recover_failed",
                "_selected_action": [webhook.pk],
                "apply": "yes",
                "since": since,
            },
            follow=True,
        )

    # then
    assert "Re-queued 1 failed delivery(ies)" in " ".join(messages_of(response))
    assert Delivery.objects.get(pk=recent.pk).status == "pending" and Delivery.objects.get(pk=old.pk).status == "failed"
    assert enqueued == [recent.pk]


def test_recover_refuses_an_endpoint_that_is_not_receiving(staff_client, make_webhook, make_delivery):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    Webhook.objects.filter(pk=webhook.pk).update(state="invalid")
    failed = make_delivery(webhook, status="failed")

    response = staff_client.post(
        WEBHOOKS,
        {
            "action": "recover_failed",
            "_selected_action": [webhook.pk],
            "apply": "yes",
            "since": (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )

    assert "enable it (or send a test) first" in " ".join(messages_of(response))
    assert Delivery.objects.get(pk=failed.pk).status == "failed"


def test_buttons_on_the_endpoint_page_run_an_action_on_that_endpoint(staff_client, make_webhook):
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    other, _ = make_webhook("http://127.0.0.1:9/other")
    page = staff_client.get(change_url(webhook)).content.decode()
    assert object_action_url(webhook, "disable") in page and object_action_url(webhook, "send_test") in page

    # when
    response = staff_client.post(object_action_url(webhook, "disable"))

    # then
    assert response.status_code == 302 and response["Location"] == change_url(webhook)
    assert Webhook.objects.get(pk=webhook.pk).state == "deactivated" and Webhook.objects.get(pk=other.pk).state == "new"
    assert staff_client.get(object_action_url(webhook, "disable")).status_code == 405
    assert staff_client.post(object_action_url(webhook, "delete_selected")).status_code == 404


def test_the_endpoint_page_lists_its_recent_deliveries(staff_client, make_webhook, make_delivery):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery = make_delivery(webhook, status="failed")

    page = staff_client.get(change_url(webhook)).content.decode()

    assert change_url(delivery) in page and delivery.event_id in page
    assert f"{DELIVERIES}?webhook={webhook.pk}" in page


def test_deleting_an_endpoint_counts_then_takes_its_log_along(
    staff_client, make_webhook, make_delivery, django_assert_max_num_queries
):
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    for _ in range(3):
        attempt(make_delivery(webhook, status="pending"), TransportResult(status=500, body="no"))
    url = reverse("admin:hooks_webhook_delete", args=[webhook.pk])

    # when: the confirmation counts the log instead of listing it
    with django_assert_max_num_queries(12):
        confirmation = staff_client.get(url)
    staff_client.post(url, {"post": "yes"})

    # then
    assert [(str(name), count) for name, count in confirmation.context["model_count"]] == [
        ("endpoints", 1),
        ("deliveries", 3),
        ("attempts", 3),
    ]
    assert not Webhook.objects.exists() and not Delivery.objects.exists()


# --- deliveries: list, inspector, redeliver ---------------------------------------------------


def test_delivery_list_columns_filters_and_search(staff_client, make_webhook, make_delivery, event_type):
    # given
    event_type("user.created")
    billing, _ = make_webhook("http://127.0.0.1:9/b", name="Billing")
    crm, _ = make_webhook("http://127.0.0.1:9/c", name="CRM")
    paid = make_delivery(billing, status="succeeded")
    Delivery.objects.filter(pk=paid.pk).update(last_status_code=200, total_attempts=2)
    failed = make_delivery(crm, status="failed", key="user.created")
    old = make_delivery(billing, status="failed", created_at=timezone.now() - timedelta(days=40))

    def ids(query: str = "") -> set[int]:
        return {delivery.pk for delivery in staff_client.get(DELIVERIES + query).context["cl"].result_list}

    # then
    page = staff_client.get(DELIVERIES).content.decode()
    for text in [paid.event_id, "invoice.paid", "Billing", "succeeded", ">200<", "user.created", "CRM"]:
        assert text in page
    assert ids() == {paid.pk, failed.pk, old.pk}
    assert ids(f"?webhook={billing.pk}") == {paid.pk, old.pk}
    assert ids("?status=failed") == {failed.pk, old.pk}
    assert ids("?event_type=user.created") == {failed.pk}
    assert ids("?" + urlencode({"created_at__gte": timezone.now() - timedelta(days=7)})) == {paid.pk, failed.pk}
    assert ids(f"?q={failed.event_id}") == {failed.pk}
    assert ids("?webhook=x") == set()


def test_delivery_list_queries_do_not_grow_with_rows(
    staff_client, make_webhook, make_delivery, django_assert_num_queries
):
    # given
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    make_delivery(webhook)
    with CaptureQueriesContext(connection) as one_row:
        staff_client.get(DELIVERIES)
    for n in range(5):
        other, _ = make_webhook(f"http://127.0.0.1:9/{n}")
        for _ in range(6):
            make_delivery(other, status="failed")

    # then
    with django_assert_num_queries(len(one_row)):
        response = staff_client.get(DELIVERIES)
    assert len(response.context["cl"].result_list) == 31


def test_the_inspector_shows_every_attempt_request_and_response(staff_client, make_webhook, make_delivery):
    # given: a delivery that failed once (connection refused), got a 500, then a 200
    webhook, secret = make_webhook(
        "http://bob:pw-123@127.0.0.1:9/in",
        headers={"X-Api-Key": "k-999", "X-Team": "ops"},
        shared_secret_header="X-OBC-Secret",
    )
    delivery = make_delivery(webhook, status="pending", payload={"invoice": 42, "lines": [{"sku": "A"}]})
    attempt(delivery, TransportResult(error="Connection refused", duration_ms=3))
    attempt(delivery, TransportResult(status=500, headers={"content-type": "text/plain"}, body="oops", duration_ms=40))
    attempt(
        delivery,
        TransportResult(
            status=200,
            headers={"content-type": "application/json", "x-request-id": "r-1"},
            body='{"received":true,"id":"abc"}',
            duration_ms=25,
        ),
    )

    # when
    response = staff_client.get(change_url(delivery))

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert [view.attempt.number for view in response.context["attempts"]] == [3, 2, 1]  # newest first
    assert "POST http://bob:***@127.0.0.1:9/in" in page
    assert "webhook-signature" in page and "x-request-id" in page and "r-1" in page
    assert "X-Team" in page and "ops" in page
    assert (
        "\n    &quot;invoice&quot;: 42" in page and "\n        &quot;sku&quot;: &quot;A&quot;" in page
    )  # pretty-printed
    assert "&quot;received&quot;: true" in page and "200 OK" in page and "25 ms" in page
    assert "500 Internal Server Error" in page and "oops" in page
    assert "Connection refused" in page and "Next retry scheduled for" in page
    for hidden in [secret, "pw-123", "k-999"]:
        assert hidden not in page
    assert object_action_url(delivery, "redeliver") in page


def test_inspector_queries_do_not_grow_with_attempts(
    staff_client, make_webhook, make_delivery, django_assert_num_queries
):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery = make_delivery(webhook, status="pending")
    attempt(delivery, TransportResult(status=500, body="no"))
    with CaptureQueriesContext(connection) as one_attempt:
        staff_client.get(change_url(delivery))
    for _ in range(6):
        attempt(delivery, TransportResult(status=500, body="no"))

    with django_assert_num_queries(len(one_attempt)):
        response = staff_client.get(change_url(delivery))
    assert len(response.context["attempts"]) == 7


def test_the_inspector_caps_and_keeps_non_json_bodies(staff_client, make_webhook, make_delivery):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery = make_delivery(webhook, status="pending")
    attempt(delivery, TransportResult(status=502, body="<html>" + "x" * 70_000, truncated=True))

    page = staff_client.get(change_url(delivery)).content.decode()

    assert "&lt;html&gt;xxx" in page and "more characters not shown" in page and "MAX_RESPONSE_BYTES" in page
    assert object_action_url(delivery, "redeliver") not in page  # pending: a retry is on its way


def test_redeliver_from_the_inspector_button(
    staff_client, make_webhook, make_delivery, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    enqueued = []
    monkeypatch.setattr("deliveries.services._wake_for", lambda ids: enqueued.extend(ids))
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery = make_delivery(webhook, status="failed")
    page = staff_client.get(change_url(delivery)).content.decode()
    assert object_action_url(delivery, "redeliver") in page

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(object_action_url(delivery, "redeliver"), follow=True)

    # then
    assert response.redirect_chain[-1][0] == change_url(delivery)
    assert "Queued 1 redelivery(ies)" in " ".join(messages_of(response))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.completed_at) == ("pending", 0, None)
    assert enqueued == [delivery.pk]


def test_bulk_redeliver(staff_client, make_webhook, make_delivery, django_capture_on_commit_callbacks, monkeypatch):
    # given
    monkeypatch.setattr("deliveries.services._wake_for", lambda ids: None)
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    off, _ = make_webhook("http://127.0.0.1:9/off")
    Webhook.objects.filter(pk=off.pk).update(state="deactivated")
    failed = [make_delivery(webhook, status="failed") for _ in range(3)]
    pending = make_delivery(webhook, status="pending")
    blocked = make_delivery(off, status="failed")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            DELIVERIES,
            {
                "action": "redeliver",
                "_selected_action": [d.pk for d in [*failed, pending, blocked]],
            },
            follow=True,
        )

    # then
    shown = " ".join(messages_of(response))
    assert "Queued 3 redelivery(ies)" in shown and "already pending" in shown and "is deactivated" in shown
    pending_now = set(Delivery.objects.filter(status="pending").values_list("pk", flat=True))
    assert pending_now == {d.pk for d in [*failed, pending]}
    assert Delivery.objects.get(pk=blocked.pk).status == "failed"


def test_deliveries_and_events_are_a_read_only_log(staff_client, make_webhook, make_delivery):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery = make_delivery(webhook, status="failed")

    assert staff_client.get(reverse("admin:deliveries_delivery_add")).status_code == 403
    assert staff_client.post(change_url(delivery), {"status": "succeeded"}).status_code == 403
    for deleting in [
        reverse("admin:deliveries_delivery_delete", args=[delivery.pk]),
        reverse("admin:events_event_delete", args=[delivery.event_id]),
    ]:
        assert staff_client.post(deleting, {"post": "yes"}).status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


def test_redeliver_needs_the_change_permission(client, operator, make_webhook, make_delivery):
    # given: an operator who may only look at deliveries
    operator.user_permissions.remove(Permission.objects.get(codename="change_delivery"))
    client.force_login(operator)
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    delivery = make_delivery(webhook, status="failed")

    # then
    assert "Redeliver" not in client.get(change_url(delivery)).content.decode()
    assert client.post(object_action_url(delivery, "redeliver")).status_code == 404
    client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


# --- events, the catalog, organisations -------------------------------------------------------


def test_event_page_pretty_prints_the_payload_and_lists_its_deliveries(staff_client, make_webhook, make_delivery):
    # given
    first, _ = make_webhook("http://127.0.0.1:9/a", name="First")
    second, _ = make_webhook("http://127.0.0.1:9/b", name="Second")
    delivery = make_delivery(first, status="failed", payload={"invoice": 42, "amount": "9.90"})
    Delivery.objects.create(event=delivery.event, webhook=second, status="succeeded", created_at=timezone.now())

    # when
    response = staff_client.get(change_url(delivery.event))

    # then
    page = response.content.decode()
    assert (
        "\n  &quot;invoice&quot;: 42" in page and "\n  &quot;amount&quot;: &quot;9.90&quot;" in page
    )  # pretty-printed
    assert "First" in page and "Second" in page and ">failed<" in page and ">succeeded<" in page
    assert change_url(delivery) in page
    assert staff_client.get(reverse("admin:events_event_add")).status_code == 403


def test_event_list_search_by_id(staff_client, make_webhook, make_delivery):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    wanted, other = make_delivery(webhook).event, make_delivery(webhook).event

    response = staff_client.get(EVENTS + f"?q={wanted.id}")

    assert [event.id for event in response.context["cl"].result_list] == [wanted.id]
    assert other.id not in response.content.decode()


def test_event_types_are_editable_with_a_checked_schema(admin_client, event_type):
    entry = event_type("invoice.paid")
    url = change_url(entry)

    refused = admin_client.post(url, {"key": "invoice.paid", "schema": '{"type": "nonsense"}'})
    assert "Not a valid JSON Schema" in str(refused.context["adminform"].form.errors["schema"])

    admin_client.post(
        url, {"key": "invoice.paid", "description": "Paid.", "schema": '{"type": "object"}', "deprecated": "on"}
    )
    entry.refresh_from_db()
    assert (entry.description, entry.schema, entry.deprecated) == ("Paid.", {"type": "object"}, True)


def test_an_event_type_schema_with_a_nul_character_is_refused_like_in_the_api(admin_client, event_type):
    # given: PostgreSQL's jsonb cannot store \u0000, so catalog.check_schema refuses it everywhere
    entry = event_type("invoice.paid")

    # when
    refused = admin_client.post(change_url(entry), {"key": "invoice.paid", "schema": '{"title": "a\\u0000b"}'})

    # then
    assert "NUL character" in str(refused.context["adminform"].form.errors["schema"])
    entry.refresh_from_db()
    assert entry.schema is None


def test_each_model_has_one_admin_registered_by_the_console():
    from django.contrib import admin

    from events.models import EventType

    for model in (Webhook, Delivery, Event, EventType, Organisation):
        assert type(admin.site._registry[model]).__module__.startswith("console."), model


def test_superusers_manage_organisation_members_and_staff_only_see_theirs(
    admin_client, staff_client, operator, organisation, other_organisation
):
    # a superuser adds a member
    admin_client.post(change_url(other_organisation), {"name": "Globex", "slug": "globex", "members": [operator.pk]})
    assert list(other_organisation.members.all()) == [operator]
    other_organisation.members.clear()

    # staff see only their own organisation, read-only
    listed = staff_client.get(reverse("admin:events_organisation_changelist"))
    assert [o.name for o in listed.context["cl"].result_list] == ["Acme"]
    assert staff_client.get(change_url(other_organisation)).status_code == 404
    staff_client.post(change_url(organisation), {"name": "Hacked", "slug": "acme"})
    assert Organisation.objects.get(pk=organisation.pk).name == "Acme"


# --- organisation isolation ---------------------------------------------------------------------


@pytest.fixture
def foreign(make_webhook, make_delivery, other_organisation):
    """Globex's endpoint, event and failed delivery, which Acme's operator must never see or touch."""
    webhook, _ = make_webhook("http://127.0.0.1:9/globex", name="Globex secret hook", organisation=other_organisation)
    delivery = make_delivery(webhook, status="failed")
    attempt(delivery, TransportResult(status=500, body="globex-body"))
    return webhook, Delivery.objects.get(pk=delivery.pk)


def test_staff_never_see_other_organisations_in_lists_or_filters(staff_client, foreign, make_webhook, make_delivery):
    # given
    foreign_webhook, foreign_delivery = foreign
    own, _ = make_webhook("http://127.0.0.1:9/acme", name="Acme hook")
    make_delivery(own)

    # then
    for url in [
        WEBHOOKS,
        DELIVERIES,
        EVENTS,
        WEBHOOKS + f"?organisation={foreign_webhook.organisation_id:d}",
        DELIVERIES + f"?webhook={foreign_webhook.pk}",
        DELIVERIES + f"?q={foreign_delivery.event_id}",
    ]:
        response = staff_client.get(url)
        assert "Globex" not in response.content.decode(), url
        shown = {str(obj.pk) for obj in response.context["cl"].result_list}
        assert not shown & {str(foreign_webhook.pk), str(foreign_delivery.pk), foreign_delivery.event_id}, url


def test_staff_get_404_for_other_organisations_objects(staff_client, foreign):
    foreign_webhook, foreign_delivery = foreign
    for url in [
        change_url(foreign_webhook),
        change_url(foreign_delivery),
        change_url(foreign_delivery.event),
        reverse("admin:hooks_webhook_history", args=[foreign_webhook.pk]),
        reverse("admin:hooks_webhook_delete", args=[foreign_webhook.pk]),
    ]:
        assert staff_client.get(url).status_code == 404, url
    assert staff_client.post(object_action_url(foreign_webhook, "disable")).status_code == 404
    assert staff_client.post(object_action_url(foreign_delivery, "redeliver")).status_code == 404
    assert Webhook.objects.get(pk=foreign_webhook.pk).state == "new"
    assert staff_client.get(change_url(Webhook(pk=999_999))).status_code == 404  # the same answer as "missing"


def test_staff_cannot_act_on_other_organisations_with_crafted_ids(staff_client, foreign, receiver, monkeypatch):
    # given
    foreign_webhook, foreign_delivery = foreign
    monkeypatch.setattr("deliveries.services._wake_for", lambda ids: None)
    selected = {"_selected_action": [foreign_webhook.pk]}

    # when
    for action in ["disable", "rotate_secret", "send_test"]:
        staff_client.post(WEBHOOKS, {"action": action, **selected})
    staff_client.post(WEBHOOKS, {"action": "recover_failed", "apply": "yes", "since": "2000-01-01T00:00", **selected})
    staff_client.post(DELIVERIES, {"action": "redeliver", "_selected_action": [foreign_delivery.pk]})
    staff_client.post(WEBHOOKS, {"action": "delete_selected", "post": "yes", **selected})

    # then
    unchanged = Webhook.objects.get(pk=foreign_webhook.pk)
    assert (unchanged.state, unchanged.secret_encrypted, unchanged.previous_secret_encrypted) == (
        "new",
        foreign_webhook.secret_encrypted,
        "",
    )
    assert Delivery.objects.get(pk=foreign_delivery.pk).status == "failed"
    assert Delivery.objects.filter(webhook=foreign_webhook).count() == 1 and not receiver.requests


def test_staff_can_only_pick_their_organisations(staff_client, organisation, other_organisation):
    # the form offers only Acme
    form = staff_client.get(reverse("admin:hooks_webhook_add")).context["adminform"].form
    assert list(form.fields["organisation"].queryset) == [organisation]

    # a crafted id of another organisation (or none) is refused
    for crafted in [other_organisation.pk, ""]:
        response = staff_client.post(
            reverse("admin:hooks_webhook_add"),
            {
                "organisation": crafted,
                "url": "http://127.0.0.1:9/in",
                "event_types": "*",
                "headers": "{}",
            },
        )
        assert "organisation" in response.context["adminform"].form.errors
    assert not Webhook.objects.exists()


def test_staff_cannot_move_an_endpoint_to_another_organisation(staff_client, make_webhook, other_organisation):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")

    response = staff_client.post(
        change_url(webhook),
        {
            "organisation": other_organisation.pk,
            "name": "x",
            "url": webhook.url,
            "event_types": "*",
            "headers": "{}",
        },
    )

    assert "organisation" in response.context["adminform"].form.errors
    assert Webhook.objects.get(pk=webhook.pk).organisation_id == webhook.organisation_id


def test_events_without_an_organisation_are_for_superusers_only(staff_client, admin_client):
    orphan = Event.objects.create(type="webhook.test", payload={}, created_at=timezone.now())

    assert staff_client.get(change_url(orphan)).status_code == 404
    assert admin_client.get(change_url(orphan)).status_code == 200


def test_bulk_actions_that_send_have_a_limit(staff_client, make_webhook, make_delivery, monkeypatch, receiver):
    # given
    monkeypatch.setattr("console.endpoints.admin.SEND_TEST_LIMIT", 1)
    monkeypatch.setattr("console.deliveries.admin.REDELIVER_LIMIT", 1)
    webhooks = [make_webhook(receiver.on(f"/{n}", always(200)))[0] for n in range(2)]
    deliveries = [make_delivery(webhook, status="failed") for webhook in webhooks]

    # when
    tested = staff_client.post(
        WEBHOOKS, {"action": "send_test", "_selected_action": [w.pk for w in webhooks]}, follow=True
    )
    redelivered = staff_client.post(
        DELIVERIES, {"action": "redeliver", "_selected_action": [d.pk for d in deliveries]}, follow=True
    )

    # then
    assert "at most 1 endpoints" in " ".join(messages_of(tested)) and not receiver.requests
    assert "at most 1 deliveries" in " ".join(messages_of(redelivered))
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}


def test_event_page_shows_matched_and_filtered_endpoints(staff_client, event_type, organisation, make_webhook):
    # given
    event_type("usage.updated")
    make_webhook("http://127.0.0.1:9/a", name="Over eighty", condition={"path": "percent", "gte": 80})
    make_webhook("http://127.0.0.1:9/b", name="Over ninety", condition={"path": "percent", "gte": 90})
    event = events.emit("usage.updated", {"percent": 85}, organisation=organisation)
    fanout.fan_out([event.id])

    # when
    page = staff_client.get(change_url(event)).content.decode()

    # then
    matched = page.split("Matched</strong>:")[1].split("<br>")[0]
    filtered = page.split("Filtered by their condition</strong>:")[1].split("</div>")[0]
    assert "Over eighty" in matched and "Over ninety" not in matched
    assert "Over ninety" in filtered and "Over eighty" not in filtered


def test_a_bad_condition_is_refused_on_its_field_and_a_good_one_saved(staff_client, make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    form = {
        "organisation": webhook.organisation_id,
        "name": "x",
        "url": webhook.url,
        "event_types": "*",
        "headers": "{}",
    }

    response = staff_client.post(change_url(webhook), {**form, "condition": '{"or": [{"path": "a", "gte": [1]}]}'})
    assert "condition.or[0].gte: &#x27;gte&#x27; compares with a number or a string" in str(
        response.context["adminform"].form.errors["condition"]
    )

    response = staff_client.post(change_url(webhook), {**form, "condition": '{"path": "usage.percent", "gte": 80}'})
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.condition == {"path": "usage.percent", "gte": 80}


def test_the_contract_form_keeps_an_override_of_the_preset_and_a_new_preset_replaces_untouched_values(
    staff_client, make_webhook
):
    # given: apigee, with 410 made special again (the preset says it is not)
    webhook, _ = make_webhook(
        "http://127.0.0.1:9/in", contract={"preset": "apigee", "policy": {"gone_deactivates": True}}
    )
    form = staff_client.get(change_url(webhook)).context["adminform"].form
    data = {name: value for name, value in ((n, form[n].value()) for n in form.fields) if value not in (None, False)}
    data = {name: form.fields[name].prepare_value(value) for name, value in data.items()}
    data["organisation"] = webhook.organisation_id
    # when: saved as shown
    assert staff_client.post(change_url(webhook), data).status_code == 302
    # then: the override stays
    webhook.refresh_from_db()
    assert webhook.contract["policy"]["gone_deactivates"] is True and webhook.contract["policy"]["attempts"] == 4
    # when: another preset is chosen and nothing else is touched
    assert staff_client.post(change_url(webhook), {**data, "preset": "bugyo-cloud"}).status_code == 302
    # then: the new preset's values, not the old one's
    webhook.refresh_from_db()
    assert webhook.contract["preset"] == "bugyo-cloud" and webhook.contract["policy"]["attempts"] == 18
    assert webhook.contract["body"]["shape"] == "template" and "delays" not in webhook.contract["policy"]
