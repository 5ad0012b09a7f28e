"""record() after the database connection dropped while the batch was being sent: written once, never twice."""
from __future__ import annotations

import pytest
from django.db import OperationalError
from django.utils import timezone

import events
from deliveries import delivering, fanout, messages
from deliveries.models import Attempt, Delivery
from deliveries.transport import TransportResult

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def claimed_batch(event_type, make_webhook, organisation):
    """One claimed delivery, sent (answered 200), not yet recorded."""
    event_type("invoice.paid")
    make_webhook("http://127.0.0.1:9/hook")
    event = events.emit("invoice.paid", {"n": 1}, organisation=organisation)
    ids = fanout.fan_out([event.id])
    claimed = delivering.claim(ids, timezone.now())
    outgoing = [(d, messages.build_request(d.event, d.webhook, messages.envelope(d.event, d.event.type, d.event.payload)))
                for d in claimed]
    return claimed, outgoing, [TransportResult(status=200)]


def drop_connection_once(monkeypatch, *, after_commit: bool) -> list[int]:
    real_write, calls = delivering._write, []

    def write(*args):
        calls.append(1)
        if after_commit:
            real_write(*args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        if not after_commit:
            real_write(*args)

    monkeypatch.setattr(delivering, "_write", write)
    return calls


def test_a_write_cut_before_its_commit_is_written_again(claimed_batch, monkeypatch):
    # given
    calls = drop_connection_once(monkeypatch, after_commit=False)

    # when
    delivering.record(*claimed_batch, retry_allowed=True)

    # then: recorded, so the receiver does not get it a second time after the lease
    assert len(calls) == 2
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.claim_token) == ("succeeded", 1, "")
    assert Attempt.objects.count() == 1


def test_a_write_whose_commit_landed_is_not_written_twice(claimed_batch, monkeypatch):
    # given: the commit went through, only its answer was lost
    calls = drop_connection_once(monkeypatch, after_commit=True)

    # when
    delivering.record(*claimed_batch, retry_allowed=True)

    # then: the claim is gone, so nothing is marked a second time
    assert len(calls) == 1
    assert Attempt.objects.count() == 1
    assert Delivery.objects.get().attempts == 1
