"""The senders' per-endpoint cap (deliveries/senders.py), counted in-process without sending anything."""

from __future__ import annotations

from deliveries import delivering, senders
from deliveries.models import Delivery


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
