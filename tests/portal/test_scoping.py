"""Secure by construction: one organisation per session, 404 for the others' ids, read-only, CSRF, escaping, rate
limit."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from deliveries.models import Attempt, Delivery, runtime_of
from events.models import Event
from hooks import services
from hooks.models import Webhook
from portal import links

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"  # never called: the tests send nothing


def delivery_of(webhook: Webhook, *, status=Delivery.Status.FAILED) -> Delivery:
    now = timezone.now()
    event = Event.objects.create(
        type="invoice.paid", payload={"n": 1}, organisation=webhook.organisation, created_at=now, dispatched_at=now
    )
    return Delivery.objects.create(event=event, webhook=webhook, created_at=now, status=status)


@pytest.fixture
def theirs(other_organisation):
    """Organisation B's endpoint and one of its deliveries."""
    webhook, _ = services.create_webhook(url=URL, name="Globex hooks", organisation=other_organisation)
    return webhook, delivery_of(webhook)


def object_paths(webhook: Webhook, delivery: Delivery) -> list[tuple[str, str]]:
    e, d = webhook.pk, delivery.pk
    return [
        ("get", f"/webhooks/endpoints/{e}/"),
        ("get", f"/webhooks/endpoints/{e}/edit/"),
        ("get", f"/webhooks/endpoints/{e}/health/"),
        ("post", f"/webhooks/endpoints/{e}/edit/"),
        ("get", f"/webhooks/endpoints/{e}/delete/"),
        ("post", f"/webhooks/endpoints/{e}/delete/"),
        ("post", f"/webhooks/endpoints/{e}/test/"),
        ("post", f"/webhooks/endpoints/{e}/rotate-secret/"),
        ("post", f"/webhooks/endpoints/{e}/recover/"),
        ("post", f"/webhooks/endpoints/{e}/disable/"),
        ("post", f"/webhooks/endpoints/{e}/pause/"),
        ("get", f"/webhooks/deliveries/{d}/"),
        ("post", f"/webhooks/deliveries/{d}/redeliver/"),
    ]


def test_another_organisations_ids_answer_404(portal_client, theirs):
    # given
    client = portal_client()
    webhook, delivery = theirs
    secret_before = webhook.secret

    # when
    answers = {(method, path): getattr(client, method)(path).status_code for method, path in object_paths(*theirs)}

    # then
    assert set(answers.values()) == {404}, answers
    webhook.refresh_from_db()
    assert webhook.secret == secret_before and webhook.state == Webhook.State.NEW and not runtime_of(webhook).paused
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.FAILED


def test_lists_show_only_the_sessions_organisation(portal_client, make_webhook, theirs):
    # given
    ours, _ = make_webhook(URL, name="Acme hooks")
    delivery_of(ours)
    client = portal_client()

    # when
    endpoints = client.get("/webhooks/").content.decode()
    log = client.get("/webhooks/deliveries/").content.decode()
    filtered = client.get(f"/webhooks/deliveries/?endpoint={theirs[0].pk}").content.decode()

    # then
    assert "Acme hooks" in endpoints and "Globex hooks" not in endpoints
    assert theirs[1].event_id not in log and ours.deliveries.get().event_id in log
    assert theirs[1].event_id not in filtered


def test_without_a_session_nothing_is_shown(client, make_webhook):
    webhook, _ = make_webhook(URL)

    assert client.get("/webhooks/").status_code == 403
    assert client.get(f"/webhooks/endpoints/{webhook.pk}/").status_code == 403
    assert client.post(f"/webhooks/endpoints/{webhook.pk}/disable/").status_code == 403


def test_creating_shows_the_secret_once(portal_client, event_type, organisation):
    # given
    event_type("invoice.paid", description="An invoice was paid.")
    client = portal_client()

    # when
    form = client.get("/webhooks/endpoints/new/").content.decode()
    created = client.post("/webhooks/endpoints/new/", {"url": URL, "name": "Billing", "event_types": ["invoice.paid"]})

    # then
    assert "An invoice was paid." in form
    webhook = Webhook.objects.get(organisation=organisation)
    assert webhook.event_types == ["invoice.paid"] and webhook.name == "Billing"
    assert webhook.secret in created.content.decode()
    for page in (f"/webhooks/endpoints/{webhook.pk}/", "/webhooks/", f"/webhooks/endpoints/{webhook.pk}/edit/"):
        assert webhook.secret not in client.get(page).content.decode()


def test_the_url_guard_refuses_a_private_address(portal_client, settings, event_type, organisation):
    settings.HOOKLINE = {**settings.HOOKLINE, "ALLOW_PRIVATE_ADDRESSES": False}
    event_type("invoice.paid")
    client = portal_client()

    answer = client.post("/webhooks/endpoints/new/", {"url": "http://127.0.0.1:8000/x", "event_types": ["*"]})

    assert answer.status_code == 200 and 'class="errors"' in answer.content.decode()
    assert not Webhook.objects.filter(organisation=organisation).exists()


def test_a_read_only_session_cannot_write(portal_client, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(URL)
    client = portal_client(read_only=True)

    # then
    assert client.get(f"/webhooks/endpoints/{webhook.pk}/").status_code == 200
    assert "Send a test event" not in client.get(f"/webhooks/endpoints/{webhook.pk}/").content.decode()
    assert client.post("/webhooks/endpoints/new/", {"url": URL, "event_types": ["*"]}).status_code == 403
    assert client.post(f"/webhooks/endpoints/{webhook.pk}/disable/").status_code == 403
    assert client.post(f"/webhooks/endpoints/{webhook.pk}/delete/").status_code == 403
    assert Webhook.objects.filter(pk=webhook.pk, state=Webhook.State.NEW).exists()


def test_a_limited_session_picks_only_its_event_types(portal_client, event_type, organisation):
    event_type("invoice.paid")
    event_type("user.created")
    client = portal_client(event_types=["invoice.*"])

    form = client.get("/webhooks/endpoints/new/").content.decode()
    refused = client.post("/webhooks/endpoints/new/", {"url": URL, "event_types": ["user.created"]})

    assert 'value="invoice.paid"' in form and 'value="user.created"' not in form and 'value="*"' not in form
    assert refused.status_code == 200 and not Webhook.objects.filter(organisation=organisation).exists()


def test_every_form_needs_the_csrf_token(organisation, make_webhook):
    # given: a browser-like client that checks CSRF
    webhook, _ = make_webhook(URL)
    client = Client(enforce_csrf_checks=True)
    link = links.mint(organisation)
    opened = client.get(link.path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', opened).group(1)
    assert client.post(link.path, {"csrfmiddlewaretoken": token}).status_code == 302

    # then
    assert client.post(f"/webhooks/endpoints/{webhook.pk}/disable/").status_code == 403
    assert client.post("/webhooks/endpoints/new/", {"url": URL, "event_types": ["*"]}).status_code == 403
    page = client.get(f"/webhooks/endpoints/{webhook.pk}/").content.decode()
    assert page.count("<form") == page.count("csrfmiddlewaretoken")


def test_names_urls_and_answers_are_escaped(portal_client, make_webhook):
    # given
    webhook, _ = make_webhook(URL + "?q=<script>", name="<script>alert(1)</script>")
    delivery = delivery_of(webhook)
    Attempt.objects.create(
        delivery=delivery,
        number=1,
        created_at=timezone.now(),
        request_url=webhook.url,
        request_headers={"x": "<img src=x onerror=alert(2)>"},
        request_body='{"a": "<b>"}',
        response_status=500,
        response_body="<script>alert(3)</script>",
    )
    client = portal_client()

    # then
    for page in ("/webhooks/", f"/webhooks/endpoints/{webhook.pk}/", f"/webhooks/deliveries/{delivery.pk}/"):
        html = client.get(page).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
    assert (
        "&lt;script&gt;alert(3)&lt;/script&gt;" in client.get(f"/webhooks/deliveries/{delivery.pk}/").content.decode()
    )


def test_test_sends_are_rate_limited(portal_client, make_webhook, settings):
    # given: no test send allowed, so the refusal comes before any request leaves
    settings.HOOKLINE_PORTAL = {"TEST_SEND_RATE": "0/m"}
    webhook, _ = make_webhook(URL)
    client = portal_client()

    # when
    answer = client.post(f"/webhooks/endpoints/{webhook.pk}/test/", follow=True)

    # then
    assert "Too many test sends" in answer.content.decode()
    assert not Delivery.objects.filter(webhook=webhook).exists()


def test_filters_narrow_the_log(portal_client, make_webhook):
    webhook, _ = make_webhook(URL)
    failed, succeeded = delivery_of(webhook), delivery_of(webhook, status=Delivery.Status.SUCCEEDED)
    client = portal_client()

    html = client.get("/webhooks/deliveries/?status=failed").content.decode()
    by_type = client.get("/webhooks/deliveries/?event_type=user.created").content.decode()

    assert failed.event_id in html and succeeded.event_id not in html
    assert failed.event_id not in by_type


def test_actions_change_the_endpoint(portal_client, make_webhook):
    webhook, secret = make_webhook(URL)
    client = portal_client()

    client.post(f"/webhooks/endpoints/{webhook.pk}/disable/")
    client.post(f"/webhooks/endpoints/{webhook.pk}/pause/")
    rotated = client.post(f"/webhooks/endpoints/{webhook.pk}/rotate-secret/").content.decode()

    webhook.refresh_from_db()
    assert webhook.state == Webhook.State.DEACTIVATED and runtime_of(webhook).paused
    assert webhook.secret != secret and webhook.secret in rotated
    assert client.post(f"/webhooks/endpoints/{webhook.pk}/delete/").status_code == 302
    assert not Webhook.objects.filter(pk=webhook.pk).exists()


def test_framing_is_allowed_only_to_the_listed_hosts(portal_client, settings):
    client = portal_client()
    assert "Content-Security-Policy" not in client.get("/webhooks/")

    settings.HOOKLINE_PORTAL = {"FRAME_ANCESTORS": ["https://app.example.com"]}
    answer = client.get("/webhooks/")

    assert answer["Content-Security-Policy"] == "frame-ancestors 'self' https://app.example.com"
    assert "X-Frame-Options" not in answer


def test_the_health_page_shows_the_last_week(portal_client, make_webhook):
    # given: one success and one failure, with its attempt's answer
    webhook, _ = make_webhook(URL)
    delivery_of(webhook, status=Delivery.Status.SUCCEEDED)
    failed = delivery_of(webhook)
    Attempt.objects.create(
        delivery=failed,
        number=1,
        created_at=timezone.now(),
        request_url=webhook.url,
        request_body="{}",
        response_status=503,
    )

    # when
    html = portal_client().get(f"/webhooks/endpoints/{webhook.pk}/health/").content.decode()

    # then
    assert "1 of 2 finished deliveries succeeded." in html
    assert "<svg" in html and "503" in html and f"/webhooks/deliveries/{failed.pk}/" in html
    # failures by reason as bars whose text alternative carries the numbers, and the table with its links
    assert 'class="hl-chart hl-bars"' in html
    assert 'aria-label="Failed attempts by reason: HTTP 503 Service Unavailable: 1"' in html
    assert '<th scope="col">Last seen</th>' in html


def test_an_edit_keeps_patterns_set_through_the_api(portal_client, make_webhook, event_type):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(URL, name="Old", event_types=["invoice.*"])
    client = portal_client()

    # when
    form = client.get(f"/webhooks/endpoints/{webhook.pk}/edit/").content.decode()
    answer = client.post(
        f"/webhooks/endpoints/{webhook.pk}/edit/",
        {"url": URL, "name": "New", "event_types": ["invoice.*", "invoice.paid"]},
    )

    # then
    assert 'value="invoice.*"' in form and "checked" in form
    assert answer.status_code == 302
    webhook.refresh_from_db()
    assert webhook.name == "New" and webhook.event_types == ["invoice.*", "invoice.paid"]
