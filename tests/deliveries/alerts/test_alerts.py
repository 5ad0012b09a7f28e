"""Operational alerts (deliveries/alerts): thresholds, the window, who receives the events, email, signals, links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliveries import control, endpoint_actions, signals
from deliveries.alerts import links, mail, moments
from deliveries.models import AlertState, Delivery, EndpointRuntime, Notification
from events.models import Event
from hooks import services
from hooks.models import Webhook
from tests.support import running
from tests.support.overrides import hookline
from tests.support.receiver import always

pytestmark = pytest.mark.django_db

FAILING = "hookline.endpoint.failing"
ALERTS = {
    "ALERT_FAILING_ATTEMPTS": 3,
    "ALERT_FAILING_AFTER": 0,
    "MAX_ATTEMPTS": 50,
    "SITE_URL": "https://hooks.example.com",
}


@pytest.fixture
def delivery_to(event_type, organisation):
    event_type("invoice.paid")

    def create(webhook, key="invoice.paid"):
        now = timezone.now()
        event = Event.objects.create(
            type=key, payload={"invoice": 1}, organisation=webhook.organisation, created_at=now, dispatched_at=now
        )
        return Delivery.objects.create(event=event, webhook=webhook, created_at=now, next_attempt_at=now)

    return create


def attempt(delivery: Delivery, times: int = 1) -> None:
    """``times`` more attempts of this delivery, each due at once."""
    for _ in range(times):
        Delivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now())
        running.deliver()


@pytest.fixture
def ops(receiver, make_webhook, organisation):
    """The organisation's operations endpoint, the site's, and a `*` subscriber: who gets what."""
    org_ops, _ = make_webhook(
        receiver.on("/org-ops", always(200)), event_types=[FAILING, "hookline.endpoint.recovered"]
    )
    site_ops, _ = make_webhook(receiver.on("/site-ops", always(200)), event_types=[FAILING], organisation=None)
    everything, _ = make_webhook(receiver.on("/all", always(200)), event_types=["*"])
    return org_ops, site_ops, everything


def test_failing_is_told_after_the_threshold_to_the_operations_endpoints_only(
    receiver, make_webhook, delivery_to, ops, organisation
):
    # given: an endpoint that names the failing event itself, and contacts on it and its organisation
    org_ops, site_ops, everything = ops
    organisation.contact_emails = "ops@acme.test"
    organisation.save()
    webhook, _ = make_webhook(
        receiver.on("/down", always(503)),
        event_types=["invoice.paid", FAILING],
        contact_emails="dev@acme.test, OPS@acme.test",
    )
    delivery = delivery_to(webhook)

    # when
    with hookline(**ALERTS):
        attempt(delivery, 2)
        assert not Notification.objects.exists()
        attempt(delivery, 3)

    # then: one notification, one event per tenant, never to the endpoint itself nor through *
    told = Notification.objects.get()
    assert (told.kind, told.webhook, told.emailed_to, told.email_status) == (
        "failing",
        webhook,
        "dev@acme.test, OPS@acme.test",
        "queued",
    )
    notices = {event.organisation_id: event for event in Event.objects.filter(type=FAILING)}
    assert notices[organisation.id].target_endpoints == [org_ops.id]
    assert notices[None].target_endpoints == [site_ops.id]
    assert sorted(told.event_endpoints) == sorted([org_ops.id, site_ops.id])
    payload = notices[organisation.id].payload
    assert payload["webhook"] == webhook.id and payload["failed_attempts"] == 3 and payload["last_error"] == "HTTP 503"
    assert payload["organisation"] == "acme" and payload["failing_since"]
    assert everything.id not in told.event_endpoints and webhook.id not in told.event_endpoints


def test_the_time_rule_warns_a_slowly_failing_endpoint(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/down", always(500)))
    delivery = delivery_to(webhook)
    with hookline(**{**ALERTS, "ALERT_FAILING_ATTEMPTS": 0, "ALERT_FAILING_AFTER": 600}):
        attempt(delivery)
        AlertState.objects.filter(pk=webhook.pk).update(failing_since=timezone.now() - timedelta(seconds=601))
        assert not Notification.objects.exists()
        attempt(delivery)
    assert Notification.objects.get().kind == "failing"


def test_recovered_follows_a_warning_and_a_new_episode_in_the_window_is_not_told_again(
    receiver, make_webhook, delivery_to
):
    # given: warned once
    up = {"ok": False}
    webhook, _ = make_webhook(
        receiver.on("/flaky", lambda request, count: always(200 if up["ok"] else 500)(request, count))
    )
    with hookline(**ALERTS):
        attempt(delivery_to(webhook), 3)
        # when: it comes back
        up["ok"] = True
        attempt(delivery_to(webhook))
        # and fails again within the window, and comes back
        up["ok"] = False
        attempt(delivery_to(webhook), 3)
        up["ok"] = True
        attempt(delivery_to(webhook))

    # then
    assert list(Notification.objects.order_by("created_at").values_list("kind", flat=True)) == ["failing", "recovered"]
    recovered = Notification.objects.get(kind="recovered")
    assert recovered.payload["failed_attempts"] == 3 and recovered.payload["recovered_at"]
    assert AlertState.objects.get(pk=webhook.pk).failing_since is None


def test_a_short_hiccup_is_nobody_s_business(receiver, make_webhook, delivery_to):
    up = {"ok": False}
    webhook, _ = make_webhook(
        receiver.on("/flaky", lambda request, count: always(200 if up["ok"] else 500)(request, count))
    )
    with hookline(**ALERTS):
        attempt(delivery_to(webhook), 2)
        up["ok"] = True
        attempt(delivery_to(webhook))
    assert not Notification.objects.exists()


def test_exhaustion_and_disabling_are_told_once_per_window(receiver, make_webhook, delivery_to):
    # given: three deliveries run out of attempts (the endpoint's policy keeps it enabled for two of them)
    webhook, _ = make_webhook(receiver.on("/down", always(500)), contract={"policy": {"on_exhaustion": "delivery"}})
    with hookline(**{**ALERTS, "MAX_ATTEMPTS": 1, "ALERT_FAILING_ATTEMPTS": 0}):
        for _ in range(3):
            attempt(delivery_to(webhook))
    assert list(Notification.objects.values_list("kind", flat=True)) == ["delivery_exhausted"]
    told = Notification.objects.get()
    assert told.payload["attempts"] == 1 and told.payload["event_type"] == "invoice.paid"


def test_disabled_carries_the_reason_and_the_last_error(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/gone", always(410)))
    with hookline(**ALERTS):
        attempt(delivery_to(webhook))
    told = Notification.objects.get(kind="disabled")
    assert told.payload["state"] == "deactivated" and told.payload["last_error"] == "HTTP 410"
    assert told.payload["reason"] == "the receiver answered 410 Gone"
    assert AlertState.objects.get(pk=webhook.pk).warned


def test_failing_deliveries_of_operational_events_emit_no_operational_event(receiver, make_webhook, delivery_to, ops):
    # given: an operations endpoint that is down, and another one that would hear about it
    down_ops, _ = make_webhook(receiver.on("/down-ops", always(500)), event_types=[FAILING], contact_emails="a@b.test")
    delivery = delivery_to(down_ops, key=FAILING)

    # when
    with hookline(**ALERTS):
        attempt(delivery, 5)

    # then: its owners are emailed, but no event goes out (that would be the loop)
    told = Notification.objects.get()
    assert told.kind == "failing" and told.emailed_to == "a@b.test"
    assert told.event_ids == [] and Event.objects.filter(type=FAILING).count() == 1  # the one it failed to deliver


@pytest.mark.parametrize(
    "switch, expect",
    [
        ({"ALERTS": False}, None),
        ({"ALERT_EVENTS": False}, {"events": False, "email": True, "signal": True}),
        ({"ALERT_EMAILS": False}, {"events": True, "email": False, "signal": True}),
        ({"ALERT_SIGNALS": False}, {"events": True, "email": True, "signal": False}),
    ],
)
def test_each_channel_switches_off(receiver, make_webhook, delivery_to, ops, switch, expect):
    webhook, _ = make_webhook(receiver.on("/down", always(500)), contact_emails="dev@acme.test")
    with hookline(**ALERTS, **switch):
        attempt(delivery_to(webhook), 3)
    told = Notification.objects.first()
    if expect is None:
        assert told is None and not AlertState.objects.exists()
        return
    assert {"events": bool(told.event_ids), "email": bool(told.emailed_to), "signal": told.signalled} == expect


def test_signals_are_sent_on_commit_with_the_payload(
    receiver, make_webhook, delivery_to, django_capture_on_commit_callbacks, monkeypatch
):
    heard = []
    signals.endpoint_failing.connect(lambda sender, **kwargs: heard.append(kwargs), weak=False, dispatch_uid="t")
    monkeypatch.setattr("deliveries.alerts.notify.enqueue_email", lambda pk: None)
    try:
        webhook, _ = make_webhook(receiver.on("/down", always(500)))
        delivery = delivery_to(webhook)
        with hookline(**ALERTS):
            attempt(delivery, 2)
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                attempt(delivery)
            assert heard == []  # not before the commit
            for callback in callbacks:
                callback()
    finally:
        signals.endpoint_failing.disconnect(dispatch_uid="t")
    [kwargs] = heard
    assert kwargs["webhook"] == webhook and kwargs["kind"] == "failing"
    assert kwargs["payload"]["failed_attempts"] == 3 and kwargs["notification"].kind == "failing"


def test_the_email_says_what_failed_since_when_and_links_health_and_reenable(receiver, make_webhook, delivery_to):
    # given: a disabled endpoint
    webhook, _ = make_webhook(receiver.on("/down", always(502)), contact_emails="dev@acme.test")
    with hookline(**{**ALERTS, "MAX_ATTEMPTS": 2}):
        attempt(delivery_to(webhook), 2)
        told = Notification.objects.get(kind="disabled")

        # when
        assert mail.send(told.pk) and not mail.send(told.pk)  # once

    # then
    [message] = outbox.outbox
    assert message.to == ["dev@acme.test"] and "was disabled" in message.subject and webhook.name in message.subject
    assert "HTTP 502" in message.body and "Failing since:" in message.body and "retries ran out" in message.body
    health = f"https://hooks.example.com/admin/hooks/webhook/{webhook.pk}/health/"
    assert health in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and health in html and "Re-enable the endpoint" in html
    token = message.body.split("/admin/deliveries/notification/reenable/")[1].split("/")[0]
    assert links.read_token(token) == webhook.pk
    told.refresh_from_db()
    assert told.email_status == "sent" and told.email_sent_at


def test_a_failed_email_is_recorded(receiver, make_webhook, delivery_to, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    webhook, _ = make_webhook(receiver.on("/down", always(500)), contact_emails="dev@acme.test")
    with hookline(**ALERTS):
        attempt(delivery_to(webhook), 3)
    told = Notification.objects.get()
    assert not mail.send(told.pk)
    told.refresh_from_db()
    assert told.email_status == "failed" and told.email_error


def test_re_enable_tokens_expire_and_cannot_be_forged(monkeypatch):
    token = links.reenable_token(7, 1)
    assert links.read_token(token) == 7
    with pytest.raises(signing.BadSignature):
        links.read_token(token[:-2] + ("xx" if not token.endswith("xx") else "yy"))
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 10)
    old = links.reenable_token(7, 1)
    monkeypatch.setattr(signing.time, "time", real_time)
    with hookline(ALERT_LINK_MAX_AGE=5), pytest.raises(signing.SignatureExpired):
        links.read_token(old)


def test_a_rotated_secret_is_told_once_before_it_stops_signing(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.on("/r", always(200)), contact_emails="dev@acme.test")
    with hookline(SECRET_ROTATION_GRACE=3600, ALERT_SECRET_NOTICE=7200):
        services.rotate_secret(webhook)
        assert len(moments.check_secrets()) == 1
        assert moments.check_secrets() == []
    told = Notification.objects.get()
    assert told.kind == "secret_expiring" and told.payload["expires_at"]


def test_the_breaker_opening_and_closing_is_told(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.on("/r", always(200)), breaker_threshold=2)
    now = timezone.now()
    control._count(webhook, [False, False], now)
    webhook.refresh_from_db()
    assert EndpointRuntime.objects.get(pk=webhook.pk).breaker_state == "open"
    control.reset_breaker(webhook)
    kinds = list(Notification.objects.order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["breaker_opened", "breaker_closed"]
    assert Notification.objects.get(kind="breaker_closed").payload["reason"] == "closed by an operator"


def test_contact_addresses_are_validated_and_normalised(make_webhook, receiver):
    webhook, _ = make_webhook(receiver.on("/r", always(200)), contact_emails=" a@b.test ;c@d.test ")
    assert webhook.contact_emails == "a@b.test, c@d.test"
    with pytest.raises(ValidationError) as refused:
        services.update_webhook(webhook, contact_emails="a@b.test, nope")
    assert "contact_emails" in refused.value.message_dict


# --- the admin: history, the re-enable link -----------------------------------------------------


@pytest.fixture
def disabled(receiver, make_webhook, delivery_to):
    webhook, _ = make_webhook(receiver.on("/down", always(500)), contact_emails="dev@acme.test")
    with hookline(**{**ALERTS, "MAX_ATTEMPTS": 1}):
        attempt(delivery_to(webhook))
    return webhook, Notification.objects.get(kind="disabled")


def test_the_re_enable_link_asks_for_a_login_then_a_confirmation(client, operator, disabled):
    webhook, told = disabled
    path = links.reenable_url(webhook.pk, told.pk)

    # anonymous: the login page
    response = client.get(path)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

    # logged in: a confirmation; GET changes nothing
    client.force_login(operator)
    response = client.get(path)
    assert response.status_code == 200 and b"Re-enable the endpoint" in response.content
    assert Webhook.objects.get(pk=webhook.pk).state == "invalid"

    # confirmed
    response = client.post(path)
    assert response.status_code == 302
    assert Webhook.objects.get(pk=webhook.pk).state == "new"


def test_the_re_enable_link_is_refused_to_others_and_when_forged(client, admin_user, other_organisation, disabled):
    from django.contrib.auth.models import Permission, User

    webhook, told = disabled
    stranger = User.objects.create_user("stranger", password="x", is_staff=True)
    stranger.user_permissions.set(Permission.objects.filter(content_type__app_label="hooks"))
    other_organisation.members.add(stranger)
    client.force_login(stranger)
    assert client.post(links.reenable_url(webhook.pk, told.pk)).status_code == 404
    client.force_login(admin_user)
    assert client.get("/admin/deliveries/notification/reenable/forged/").status_code == 404
    assert Webhook.objects.get(pk=webhook.pk).state == "invalid"


def test_the_history_lists_what_was_sent_to_whom(client, operator, disabled):
    webhook, _ = disabled
    client.force_login(operator)
    response = client.get(f"/admin/deliveries/notification/?webhook__id__exact={webhook.pk}")
    assert response.status_code == 200
    assert b"dev@acme.test" in response.content and b"disabled" in response.content
    page = client.get(f"/admin/hooks/webhook/{webhook.pk}/change/")
    assert b"2 alerts</a>" in page.content  # exhausted, disabled
    emailed = dict(Notification.objects.values_list("kind", "emailed_to"))
    assert emailed == {"delivery_exhausted": "", "disabled": "dev@acme.test"}  # one email for one moment
    assert b"alert contacts" in page.content.lower()


def test_the_healthy_path_costs_one_query(receiver, make_webhook, delivery_to):
    # given: a batch of successful deliveries to two endpoints that were never failing
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first, _ = make_webhook(receiver.on("/a", always(200)))
    second, _ = make_webhook(receiver.on("/b", always(200)))
    ids = [delivery_to(webhook).id for webhook in (first, second, first, second)]

    def queries(**settings) -> list[str]:
        Delivery.objects.filter(id__in=ids).update(status="pending", next_attempt_at=timezone.now())
        with hookline(**settings), CaptureQueriesContext(connection) as captured:
            running.deliver()
        return [query["sql"] for query in captured.captured_queries]

    queries()  # the first successes move both endpoints from new to valid

    # when
    on, off = queries(ALERTS=True), queries(ALERTS=False)

    # then: one indexed look at the alert states per recorded group (the inline senders of the tests record
    # each request on its own; a worker's recorder writes what finished within 5 ms together), none when off
    lookups = [sql for sql in on if "alertstate" in sql.lower()]
    assert len(on) - len(off) == len(lookups)
    assert 1 <= len(lookups) <= len(ids)
    assert not any("alertstate" in sql.lower() for sql in off)


def test_settings_are_checked(settings):
    from hookline.checks import check_deployment, check_hookline_settings

    with hookline(ALERT_WINDOW=0, ALERT_FAILING_ATTEMPTS=-1):
        ids = [error.id for error in check_hookline_settings()]
    assert ids.count("hookline.E017") == 1 and ids.count("hookline.E018") == 1
    with hookline(SITE_URL=""):
        assert "hookline.W032" in [warning.id for warning in check_deployment()]
    with hookline(SITE_URL="https://hooks.example.com"):
        assert "hookline.W032" not in [warning.id for warning in check_deployment()]
    with hookline(SITE_URL="", ALERT_EMAILS=False):
        assert "hookline.W032" not in [warning.id for warning in check_deployment()]


def test_organisations_and_the_api_take_alert_contacts(client, admin_user, organisation, operator):
    client.force_login(admin_user)
    page = client.get(f"/admin/events/organisation/{organisation.pk}/change/")
    assert page.status_code == 200 and b'name="contact_emails"' in page.content
    client.force_login(operator)
    webhook, _ = services.create_webhook(url="http://127.0.0.1:9/a", organisation=organisation)
    refused = client.patch(f"/api/webhooks/{webhook.pk}/", {"contact_emails": "nope"}, content_type="application/json")
    assert refused.status_code == 400 and "contact_emails" in refused.json()["fields"]
    accepted = client.patch(
        f"/api/webhooks/{webhook.pk}/", {"contact_emails": "a@b.test;c@d.test"}, content_type="application/json"
    )
    assert accepted.status_code == 200 and accepted.json()["contact_emails"] == "a@b.test, c@d.test"


# --- lock order: AlertState, then Webhook, then EndpointRuntime (deliveries/alerts/notify.py) ------------------


def first(queries: list[str], *needles: str) -> int:
    """The index of the first statement that names every needle."""
    return next(index for index, sql in enumerate(queries) if all(needle in sql for needle in needles))


def statements(run) -> list[str]:
    with CaptureQueriesContext(connection) as ran:
        run()
    return [query["sql"] for query in ran.captured_queries]


def test_the_worker_and_a_failed_test_send_lock_an_endpoints_rows_in_the_same_order(
    receiver, make_webhook, delivery_to
):
    # given: an endpoint that answers 500; a delivery of it that the worker exhausts (it turns the endpoint invalid)
    webhook, _ = make_webhook(receiver.on("/down", always(500)), breaker_threshold=1)
    delivery = delivery_to(webhook)
    with hookline(MAX_ATTEMPTS=1):
        # when: the worker records the exhaustion, then an operator's test fails
        worker = statements(running.deliver)
        Webhook.objects.filter(pk=webhook.pk).update(state="valid")
        webhook.refresh_from_db()
        operator = statements(lambda: endpoint_actions.send_test(webhook))
    # then: both take the alert lock before they write the endpoint's row (the worker then its runtime row), so
    # neither holds one while waiting for the other's (they deadlocked when the test-send took them reversed)
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"
    for sql in (worker, operator):
        assert first(sql, "deliveries_alertstate") < first(sql, 'UPDATE "hooks_webhook"')
    assert first(worker, 'UPDATE "hooks_webhook"') < first(worker, 'UPDATE "deliveries_endpointruntime"')
    if connection.features.has_select_for_update:  # PostgreSQL: the lock itself
        for sql in (worker, operator):
            assert first(sql, "deliveries_alertstate", "FOR UPDATE") < first(sql, 'UPDATE "hooks_webhook"')


def test_closing_the_breaker_by_hand_takes_the_alert_lock_before_the_runtime_row(make_webhook, receiver):
    # given: an open breaker
    webhook, _ = make_webhook(receiver.on("/r", always(200)), breaker_threshold=1)
    control._count(webhook, [False], timezone.now())
    webhook.refresh_from_db()
    # when
    sql = statements(lambda: control.reset_breaker(webhook))
    # then
    assert first(sql, "deliveries_alertstate") < first(sql, 'UPDATE "deliveries_endpointruntime"')
    assert Notification.objects.filter(kind="breaker_closed").exists()
