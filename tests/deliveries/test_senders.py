"""The senders' per-endpoint cap (deliveries/senders.py), counted in-process without sending anything."""

from __future__ import annotations

import pytest

from deliveries import delivering, runs, senders, wakeup
from deliveries.models import Delivery
from tests.support.receiver import InFlight
from tests.support.waiting import wait_until


def test_the_endpoint_cap_counts_deliveries_fitted_by_concurrent_claims_before_they_are_submitted(make_webhook):
    # given: an endpoint capped at 3 requests in flight, and the senders of a worker process
    webhook, _ = make_webhook("http://127.0.0.1:9/in", contract={"policy": {"max_in_flight": 3}})
    other, _ = make_webhook("http://127.0.0.1:9/other")
    pool = senders.Senders(10, delivering.record_done, inline=True)

    def claimed(count, endpoint=webhook):
        return [Delivery(webhook=endpoint) for _ in range(count)]

    # when: two runs fit their claims one after the other, neither has submitted yet
    first, first_over = pool.fit(claimed(2))
    second, second_over = pool.fit(claimed(2) + claimed(1, other))

    # then: the second run gets only the slot left, and the endpoint counts as full for the next claim
    assert (len(first), len(first_over)) == (2, 0)
    assert (len(second), len(second_over)) == (2, 1)
    assert [delivery.webhook_id for delivery in second] == [webhook.pk, other.pk]
    assert pool.full_endpoints() == {webhook.pk}

    # when: the first run's claim gives its slots back (its jobs submitted count on their own, or none were)
    pool.unfit(first)

    # then
    assert pool.full_endpoints() == set()
    assert len(pool.fit(claimed(5))[0]) == 2


def test_a_lone_endpoint_with_a_backlog_may_use_half_the_pool_and_shrinks_beside_others(make_webhook):
    # given: the default cap (200), senders of 400 slots, and two endpoints
    busy, _ = make_webhook("http://127.0.0.1:9/busy")
    other, _ = make_webhook("http://127.0.0.1:9/other")
    pool = senders.Senders(400, delivering.record_done, inline=True)

    # when: the busy endpoint's backlog is claimed alone, a batch of 50 first
    first, _ = pool.fit([Delivery(webhook=busy) for _ in range(50)])

    # then: the next claim of 50 fits whole (no per-endpoint SELECT before it) ...
    assert len(first) == 50 and not pool.narrower_than(50)

    # ... and so on up to half the pool, not a small fixed cap (a cap of 20 held a 200 ms receiver to 85/s)
    rest, over = pool.fit([Delivery(webhook=busy) for _ in range(250)])
    assert (len(rest), len(over)) == (150, 100)
    assert pool.narrower_than(50)
    fitted = first + rest

    # when: the other endpoint brings a backlog of its own
    theirs, _ = pool.fit([Delivery(webhook=other) for _ in range(300)])

    # then: half of what the busy one leaves free; and once the busy one's requests end, it may not take them
    # all back: half of what the other leaves
    assert len(theirs) == 100
    pool.unfit(fitted)
    assert pool.endpoint_room(busy.pk) == 150


def test_an_endpoint_with_nothing_in_flight_always_finds_room(make_webhook):
    # given: senders of 40 slots and one endpoint after another, each with a backlog it claims greedily
    pool = senders.Senders(40, delivering.record_done, inline=True)
    hogs = [make_webhook(f"http://127.0.0.1:9/hog{i}")[0] for i in range(5)]
    held = [len(pool.fit([Delivery(webhook=hog) for _ in range(40)])[0]) for hog in hogs]

    # then: each took half of what was left, and what is left is still room for a newcomer
    assert held == [20, 10, 5, 2, 1]
    newcomer, _ = make_webhook("http://127.0.0.1:9/new")
    assert pool.endpoint_room(newcomer.pk) == 1


# The worker's own sender threads and recorder write while the test reads: a real database (as in test_delivering).
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_endpoint_over_its_cap_is_refilled_by_its_own_ended_requests_without_a_wake_up(
    receiver, make_webhook, make_delivery, event_type, monkeypatch
):
    # given: 8 due deliveries for an endpoint allowed 2 requests in flight, a receiver that counts them,
    # and no broker: every wake-up the senders would publish is only noted
    slow = InFlight(0.2)
    webhook, _ = make_webhook(receiver.on("/capped", slow), contract={"policy": {"max_in_flight": 2}})
    event_type("invoice.paid")
    for _ in range(8):
        make_delivery(webhook)
    published: list[float | None] = []
    monkeypatch.setattr(wakeup, "publish", lambda countdown=None: published.append(countdown))
    senders.install(None)  # the worker's own sender pool and recorder thread
    try:
        # when: one run sends what the cap allows and ends
        runs.run()

        # then: each ended request's slot is refilled by the recorder, two at a time, until none waits;
        # no wake-up message, no second run
        wait_until(
            lambda: Delivery.objects.filter(webhook=webhook, status="succeeded").count() == 8,
            timeout=20,
            message="the capped backlog",
        )
        assert senders.senders().drain(5)
    finally:
        senders.install(None)
    assert slow.peak == 2
    assert len(receiver.at("/capped")) == 8  # none twice
    assert published == []
