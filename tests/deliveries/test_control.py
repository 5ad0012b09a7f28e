"""Delivery control in-process: pause/resume, the breaker, FIFO heads and the rate limit (the database bucket)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliveries import buckets, control, delivering, fanout
from deliveries.models import IDLE, Attempt, Delivery, EndpointRuntime
from deliveries.retry import Outcome
from events.models import Event
from hooks import services
from hooks.models import Webhook
from tests.support.overrides import hookline
from tests.support.receiver import always, sequence
from tests.support.running import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries_to(event_type, organisation):
    """``deliveries_to(webhook, 3)``: that many events (one second apart, oldest first) and their due deliveries."""
    event_type("invoice.paid")

    def create(webhook, count=1):
        now = timezone.now()
        made = []
        for n in range(count):
            at = now - timedelta(seconds=count - n)
            event = Event.objects.create(
                type="invoice.paid", payload={"n": n}, organisation=organisation, created_at=at, dispatched_at=at
            )
            made.append(Delivery.objects.create(event=event, webhook=webhook, created_at=at, next_attempt_at=at))
        return made

    return create


@pytest.fixture
def staff_client(client, operator):
    client.force_login(operator)
    return client


def runtime(webhook):
    """What the workers keep about the endpoint, as stored now (the idle state if nothing yet)."""
    return EndpointRuntime.objects.filter(pk=webhook.pk).first() or IDLE


def set_runtime(webhook, **fields):
    EndpointRuntime.objects.update_or_create(webhook_id=webhook.pk, defaults=fields)


def numbers(requests):
    return [request.json["data"]["n"] for request in requests]


def test_an_endpoint_without_control_costs_no_query(make_webhook, receiver, deliveries_to):
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    deliveries_to(webhook, 3)
    claimed = delivering.claim_due(timezone.now(), 10)
    with CaptureQueriesContext(connection) as queries:
        admission = control.admit(claimed, timezone.now())
    assert admission.send == claimed and admission.waits == []
    with CaptureQueriesContext(connection) as queries:
        assert control.record_outcomes([(delivery, Outcome.RETRY) for delivery in claimed], timezone.now()) == []
    assert queries.captured_queries == []


def test_a_paused_endpoint_holds_new_deliveries_and_resume_sends_them_in_order(
    make_webhook, receiver, event_type, organisation
):
    # given
    event_type("invoice.paid")
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    control.pause(webhook)
    for n in range(5):
        Event.objects.create(
            type="invoice.paid", payload={"n": n}, organisation=organisation, created_at=timezone.now()
        )
    # when: fan-out creates them held, unclaimed
    fanned = fanout.fan_out_waiting(limit=50, claim_limit=50, token="t", lease=timezone.now() + timedelta(seconds=60))
    # then
    assert fanned.claimed == [] and not fanned.more
    assert set(Delivery.objects.values_list("status", flat=True)) == {"held"}
    assert delivering.claim_due(timezone.now(), 10) == []
    # when
    assert control.resume(webhook) == 5
    deliver()
    # then
    assert sorted(numbers(receiver.at("/r"))) == [0, 1, 2, 3, 4]
    assert Attempt.objects.count() == 5


def test_pausing_holds_pending_deliveries_and_a_claimed_one_is_held_without_an_attempt(
    make_webhook, receiver, deliveries_to
):
    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    [first, second] = deliveries_to(webhook, 2)
    claimed = delivering.claim_due(timezone.now(), 1)  # in a worker's hands when the operator pauses
    control.pause(webhook)
    assert Delivery.objects.get(pk=second.pk).status == "held"
    claimed[0].webhook.runtime = runtime(webhook)  # what the worker would read on its next claim
    assert deliver(claimed)[0].waiting
    first.refresh_from_db()
    assert (first.status, first.attempts, first.claimed_until) == ("held", 0, None)
    assert receiver.requests == []


def test_the_breaker_opens_after_n_failures_then_one_probe_closes_it(make_webhook, receiver, deliveries_to):
    # given: a receiver that fails three times, then recovers
    webhook, _ = make_webhook(
        receiver.on("/r", sequence(500, 500, 500, 200, 200, 200)), breaker_threshold=3, breaker_cooldown=30
    )
    made = deliveries_to(webhook, 3)
    # when: three failed attempts
    for _delivery in made:
        deliver()
    # then: open, and the deliveries wait without using attempts
    state = runtime(webhook)
    assert state.breaker_state == "open" and state.breaker_failures == 3
    assert "3 consecutive failed attempts" in state.breaker_reason
    Delivery.objects.update(next_attempt_at=timezone.now())
    retries = delivering.claim_due(timezone.now(), 10)
    waits = deliver(retries)
    assert all(wait.waiting and 29 <= wait.delay <= 31 for wait in waits) and len(waits) == 3
    assert list(Delivery.objects.values_list("attempts", flat=True)) == [1, 1, 1]
    assert len(receiver.requests) == 3
    # when: the cool-down is over; one probe goes, the others wait for it
    set_runtime(webhook, breaker_until=timezone.now() - timedelta(seconds=1))
    Delivery.objects.update(next_attempt_at=timezone.now())
    waits = deliver()
    # then: the probe succeeded and closed it
    assert len(receiver.requests) == 4 and len([w for w in waits if w.waiting]) == 2
    state = runtime(webhook)
    assert (state.breaker_state, state.breaker_failures, state.breaker_reason) == ("closed", 0, "the probe succeeded")


def test_a_failed_probe_opens_the_breaker_again(make_webhook, receiver, deliveries_to):
    webhook, _ = make_webhook(receiver.on("/r", always(500)), breaker_threshold=1, breaker_cooldown=30)
    [_delivery] = deliveries_to(webhook, 1)
    deliver()
    set_runtime(webhook, breaker_until=timezone.now())
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliver()
    state = runtime(webhook)
    assert state.breaker_state == "open" and state.breaker_reason.startswith("the probe failed")
    assert state.breaker_until > timezone.now() + timedelta(seconds=25)


def test_the_breaker_is_off_by_default(make_webhook, receiver, deliveries_to):
    webhook, _ = make_webhook(receiver.on("/r", always(500)))
    for _delivery in deliveries_to(webhook, 3):
        deliver()
    assert (runtime(webhook).breaker_state, runtime(webhook).breaker_failures) == ("closed", 0)
    with hookline(BREAKER_THRESHOLD=2):
        for _delivery in deliveries_to(webhook, 2):
            deliver()
    assert runtime(webhook).breaker_state == "open"


def test_fifo_sends_only_the_head_and_its_end_wakes_the_next(make_webhook, receiver, deliveries_to):
    # given: the head fails once (a retry), then everything succeeds
    webhook, _ = make_webhook(receiver.on("/r", sequence(500, 200)), ordered=True)
    made = deliveries_to(webhook, 3)
    # when: a worker claims all three
    waits = deliver()
    # then: only the head went; it retries and holds the others
    assert numbers(receiver.at("/r")) == [0]
    assert len([w for w in waits if w.waiting]) == 2
    assert control.head_of_line(webhook).pk == made[0].pk
    assert Delivery.objects.get(pk=made[2].pk).next_attempt_at > timezone.now() + timedelta(seconds=20)
    Delivery.objects.filter(pk=made[0].pk).update(next_attempt_at=timezone.now())
    deliver()
    # then: the head succeeded, its end made the successor due, and so on, in order, within one run
    assert numbers(receiver.at("/r")) == [0, 0, 1, 2]
    assert list(Delivery.objects.order_by("id").values_list("attempts", flat=True)) == [2, 1, 1]


def test_skipping_the_head_lets_the_next_delivery_go(make_webhook, receiver, deliveries_to):
    webhook, _ = make_webhook(receiver.on("/r", always(200)), ordered=True)
    made = deliveries_to(webhook, 2)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert control.skip_head(webhook).pk == made[0].pk
    assert Delivery.objects.get(pk=made[0].pk).status == "cancelled"
    deliver()
    assert numbers(receiver.at("/r")) == [1]


def test_the_rate_limit_lets_a_burst_through_and_spreads_the_rest(make_webhook, receiver, deliveries_to, monkeypatch):
    # Every clock the run reads stands still (this is about the bucket's arithmetic; real time is the timing
    # tests' job). The bucket refills a token every 0.1 s, and the first of the 4 released is due again 0.2 s
    # later: a run slowed by a loaded machine would otherwise earn a 4th token, or claim a released delivery
    # again in a later round of the same run (released twice: 8 waits). So Django's clock is frozen (the
    # run's claims, control.admit, the releases, the database bucket), and the bucket is the database one
    # even when the broker is Redis, whose bucket reads Redis's clock (TIME), which no test can stop.
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    monkeypatch.setattr(buckets, "wakeup", SimpleNamespace(flag=lambda: SimpleNamespace()))
    webhook, _ = make_webhook(receiver.on("/r", always(200)), rate_limit=10, rate_limit_burst=3)
    deliveries_to(webhook, 7)
    waits = deliver()
    assert len(receiver.requests) == 3
    delays = sorted(wait.delay for wait in waits if wait.waiting)
    assert len(delays) == 4 and delays[0] <= 0.25 and 0.35 <= delays[-1] <= 0.55
    assert set(Delivery.objects.filter(status="pending").values_list("attempts", flat=True)) == {0}


def test_control_settings_are_validated_and_kept_apart_from_the_breaker_state(make_webhook, receiver):
    from django.core.exceptions import ValidationError

    webhook, _ = make_webhook(receiver.on("/r", always(200)))
    with pytest.raises(ValidationError) as refused:
        services.update_webhook(webhook, rate_limit=-1)
    assert "rate_limit" in refused.value.message_dict
    set_runtime(webhook, breaker_state="open")  # a worker's write; the edited row knows nothing of it
    services.update_webhook(webhook, rate_limit=5, ordered=True)
    webhook.refresh_from_db()
    options = webhook.delivery_contract.control
    assert (options.rate_limit, options.ordered, runtime(webhook).breaker_state) == (5, True, "open")
    assert webhook.contract == {"control": {"rate_limit": 5, "ordered": True}}


# --- the edges: API and admin -----------------------------------------------------------------


@pytest.mark.usefixtures("public_dns")
def test_the_api_shows_and_edits_the_settings_and_runs_the_actions(api, make_webhook, deliveries_to):
    # given
    created = api.post(
        "/api/webhooks/",
        {"url": "https://example.com/h", "rate_limit": 5, "ordered": True, "breaker_threshold": 3},
        format="json",
    )
    assert created.status_code == 201, created.data
    body = created.json()
    assert (body["rate_limit"], body["rate_limit_burst"], body["ordered"], body["breaker_threshold"]) == (
        5,
        None,
        True,
        3,
    )
    assert (body["breaker_state"], body["paused"], body["head_of_line"]) == ("closed", False, None)
    url = f"/api/webhooks/{body['id']}/"
    webhook = Webhook.objects.get(pk=body["id"])
    # edits: validated, and the state fields are read-only
    assert api.patch(url, {"rate_limit": -3}, format="json").status_code == 400
    edited = api.patch(url, {"rate_limit_burst": 10, "breaker_state": "open"}, format="json").json()
    assert (edited["rate_limit_burst"], edited["breaker_state"]) == (10, "closed")
    # pause / resume
    paused = api.post(url + "pause/").json()
    assert paused["paused"] and paused["paused_at"]
    deliveries_to(webhook, 2)
    control.pause(webhook)
    assert api.post(url + "resume/").json() == {"released": 2}
    # head of line and skipping it
    head = api.get(url).json()["head_of_line"]
    assert head is not None
    assert api.post(url + "skip-head/").json() == {"skipped": head}
    assert Delivery.objects.get(pk=head).status == "cancelled"
    # the breaker, opened by the workers, closed by hand
    set_runtime(webhook, breaker_state="open", breaker_reason="3 consecutive failed attempts")
    assert api.get(url).json()["breaker_reason"] == "3 consecutive failed attempts"
    assert api.post(url + "reset-breaker/").json()["breaker_state"] == "closed"


def test_the_admin_shows_the_control_state_and_its_actions_work(staff_client, make_webhook, deliveries_to):
    from django.urls import reverse

    webhook, _ = make_webhook("http://127.0.0.1:9/in", ordered=True, rate_limit=7)
    [first, _second] = deliveries_to(webhook, 2)
    set_runtime(
        webhook, breaker_state="open", breaker_reason="5 consecutive failed attempts", breaker_changed_at=timezone.now()
    )
    page = staff_client.get(reverse("admin:hooks_webhook_change", args=[webhook.pk])).content.decode()
    assert "Delivery control" in page and "5 consecutive failed attempts" in page and first.event_id in page
    listing = staff_client.get(reverse("admin:hooks_webhook_changelist")).content.decode()
    assert "breaker open" in listing and "7/s" in listing and "FIFO" in listing
    changelist = reverse("admin:hooks_webhook_changelist")
    for action in ("skip_head", "reset_breaker", "pause"):
        staff_client.post(changelist, {"action": action, "_selected_action": [webhook.pk]})
    assert runtime(webhook).paused and runtime(webhook).breaker_state == "closed"
    assert Delivery.objects.get(pk=first.pk).status == "cancelled"
    staff_client.post(changelist, {"action": "resume", "_selected_action": [webhook.pk]})
    assert not runtime(webhook).paused and not Delivery.objects.filter(status="held").exists()
    # the settings are edited on the form
    response = staff_client.post(
        reverse("admin:hooks_webhook_change", args=[webhook.pk]),
        {
            "organisation": webhook.organisation_id,
            "name": "x",
            "url": webhook.url,
            "event_types": "*",
            "headers": "{}",
            "standard_signature": "on",
            "rate_limit": "12",
            "rate_limit_burst": "",
            "breaker_threshold": "4",
            "breaker_cooldown": "",
            "ordered": "",
        },
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    options = webhook.delivery_contract.control
    assert (options.rate_limit, options.breaker_threshold, options.ordered) == (12, 4, False)
