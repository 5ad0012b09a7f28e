"""Helpers for the conformance tests: emit committed events, wait for deliveries to settle, measure retry spacing."""
from __future__ import annotations

import pytest
from django.db import transaction

import events
from deliveries.models import Delivery
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

# The delivery path claims a retry up to one second early (deliveries.models.CLAIM_SKEW): spacing is
# checked within that tolerance, so scaled-down delays are chosen well above it.
SKEW = 1.0


def emit(key: str, payload: dict, organisation) -> str:
    with transaction.atomic():
        return events.emit(key, payload, organisation=organisation).id


def settle(webhook, count: int, *, timeout: float = 90) -> list[Delivery]:
    """Wait until ``webhook`` has ``count`` deliveries and none is pending; returns them."""
    def done():
        deliveries = list(Delivery.objects.filter(webhook=webhook))
        return deliveries if len(deliveries) == count and all(d.status != "pending" for d in deliveries) else None

    return wait_until(done, timeout=timeout, message=f"{count} settled deliveries to {webhook.name}")


def gaps(requests) -> list[float]:
    times = [request.at for request in requests]
    return [later - earlier for earlier, later in zip(times, times[1:])]


def statuses(*codes: int):
    """Answer with ``codes`` in turn (per path), then repeat the last."""
    return lambda request, count: Reply(codes[min(count, len(codes)) - 1])
