"""Endpoint state transitions: allowed from-states, reasons, timestamps and operational events."""

from __future__ import annotations

import pytest

from events.models import Event
from hooks import states
from hooks.models import Webhook

pytestmark = pytest.mark.django_db


def _in_state(webhook: Webhook, state: str) -> Webhook:
    Webhook.objects.filter(id=webhook.id).update(state=state)
    webhook.refresh_from_db()
    return webhook


@pytest.mark.parametrize(
    "change, start",
    [
        (states.DELIVERY_SUCCEEDED, "deactivated"),  # a delivery that finished after a switch-off
        (states.DELIVERY_SUCCEEDED, "invalid"),
        (states.RETRIES_RAN_OUT, "deactivated"),
        (states.GONE, "deactivated"),
    ],
)
def test_the_worker_does_not_move_an_endpoint_from_where_it_should_not(make_webhook, change, start):
    # given
    webhook = _in_state(make_webhook("http://127.0.0.1:9/a")[0], start)

    # when
    moved = states.transition(webhook, change)

    # then
    assert not moved and Webhook.objects.get(id=webhook.id).state == start
    assert not Event.objects.filter(type__startswith="hookline.endpoint.").exists()


def test_the_database_state_decides_when_the_loaded_one_is_stale(make_webhook):
    # given: loaded while new, switched off since
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    Webhook.objects.filter(id=webhook.id).update(state="deactivated")

    # when
    moved = states.transition(webhook, states.RETRIES_RAN_OUT)

    # then
    assert not moved and Webhook.objects.get(id=webhook.id).state == "deactivated"
    assert not Event.objects.exists()


def test_running_out_of_retries_invalidates_once_and_says_so(make_webhook):
    # given: and an operations endpoint that names the operational event (deliveries.alerts emits it)
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    operations, _ = make_webhook("http://127.0.0.1:9/ops", event_types=["hookline.endpoint.invalid"])
    stale_copy = Webhook.objects.get(id=webhook.id)
    before = webhook.state_changed_at

    # when: two workers finish at once
    first = states.transition(webhook, states.RETRIES_RAN_OUT)
    second = states.transition(stale_copy, states.RETRIES_RAN_OUT)

    # then
    stored = Webhook.objects.get(id=webhook.id)
    assert (first, second) == (True, False)
    assert (stored.state, stored.state_reason) == ("invalid", "retries ran out") and stored.state_changed_at > before
    assert (webhook.state, webhook.state_reason) == ("invalid", "retries ran out")
    notice = Event.objects.get()
    assert notice.type == "hookline.endpoint.invalid" and notice.payload["state"] == "invalid"
    assert notice.target_endpoints == [operations.id] and notice.payload["webhook"] == webhook.id


def test_operators_may_always_act_and_are_recorded(make_webhook, operator):
    # given
    webhook = _in_state(make_webhook("http://127.0.0.1:9/a")[0], "invalid")

    # when
    states.transition(webhook, states.ENABLED, user=operator)

    # then
    stored = Webhook.objects.get(id=webhook.id)
    assert (stored.state, stored.state_reason, stored.updated_by) == ("new", "enabled", operator)


def test_an_uncommitted_change_only_sets_fields(make_webhook):
    webhook, _ = make_webhook("http://127.0.0.1:9/a")
    assert states.transition(webhook, states.SET_DEACTIVATED_BY_OWNER, commit=False)
    assert webhook.state == "deactivated" and Webhook.objects.get(id=webhook.id).state == "new"
    with pytest.raises(ValueError, match="must be committed"):
        states.transition(webhook, states.TEST_FAILED, commit=False)
