"""Tests for deliveries.lifecycle: the named transitions, and that no other module writes a delivery's status or lease."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries import lifecycle
from deliveries.models import Delivery
from events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries(make_webhook, organisation):
    """Four claimed deliveries of four events to one endpoint."""
    webhook, _ = make_webhook("http://127.0.0.1:9/hook")
    now = timezone.now()
    created = []
    for index in range(4):
        event = Event.objects.create(type="invoice.paid", payload={"n": index}, organisation=organisation, created_at=now)
        created.append(Delivery.objects.create(
            event=event, webhook=webhook, created_at=now, next_attempt_at=now,
            claimed_until=now + timedelta(minutes=2), claim_token="t0ken",
        ))
    return created


def test_settle_writes_one_update_per_distinct_outcome(deliveries, django_assert_num_queries) -> None:
    # given: three succeeded alike, one is retried later
    now = timezone.now()
    retry_at = now + timedelta(seconds=10)
    for delivery in deliveries:
        delivery.attempts = delivery.total_attempts = 1
    for delivery in deliveries[:3]:
        delivery.status, delivery.completed_at, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, now, None
        delivery.last_status_code = 200
    retried = deliveries[3]
    retried.last_status_code, retried.last_error, retried.next_attempt_at = 503, "", retry_at

    # when
    with django_assert_num_queries(2):
        lifecycle.settle(deliveries)

    # then
    stored = {delivery.id: delivery for delivery in Delivery.objects.all()}
    for delivery in deliveries[:3]:
        row = stored[delivery.id]
        assert (row.status, row.attempts, row.total_attempts, row.last_status_code) == ("succeeded", 1, 1, 200)
        assert (row.completed_at, row.next_attempt_at, row.claimed_until, row.claim_token) == (now, None, None, "")
    row = stored[retried.id]
    assert (row.status, row.attempts, row.last_status_code, row.next_attempt_at) == ("pending", 1, 503, retry_at)
    assert (row.claimed_until, row.completed_at) == (None, None)


def test_settle_leaves_other_deliveries_alone(deliveries) -> None:
    # given
    first, *others = deliveries
    first.status, first.last_status_code = Delivery.Status.FAILED, 400

    # when
    lifecycle.settle([first])

    # then
    assert Delivery.objects.get(id=first.id).status == "failed"
    assert set(Delivery.objects.exclude(id=first.id).values_list("status", "claim_token")) == {("pending", "t0ken")}
