"""Helpers for the conformance tests: run the published recipes, emit committed events, wait for deliveries to
settle, measure retry spacing."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token

import events
from deliveries.models import Delivery
from events import catalog
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

from . import recipes

CLOUDGEAR_APP = "tests.seeds.cloudgear"  # a worker's extra app that runs the published 000 events recipe

# A retry is never claimed before its due time and goes within a countdown slot and a run's start after it
# (deliveries/wakeup.py): spacing is checked within this tolerance, so scaled-down delays are chosen well above it.
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
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def statuses(*codes: int):
    """Answer with ``codes`` in turn (per path), then repeat the last."""
    return lambda request, count: Reply(codes[min(count, len(codes)) - 1])


@pytest.fixture
def recipe(organisation, receiver):
    """``recipe("003-bugyo-cloud")`` runs a published Python recipe with ``org`` and the receiver; its namespace."""
    return lambda name, **names: recipes.run_python(name, {"org": organisation, **names}, receiver=receiver)


@pytest.fixture
def shell(live_server, member, receiver, tmp_path):
    """``shell("001-apigee", ID="7")`` runs a published shell recipe against the live API as ``member``."""
    token = Token.objects.get_or_create(user=member)[0].key
    return lambda name, **env: recipes.run_shell(
        name, api=f"{live_server.url}/api", token=token, cwd=tmp_path, receiver=receiver, **env
    )


@pytest.fixture
def cloudgear_events(event_type):
    """The published 000-cloudgear-events recipe, registered in this process and in the catalog table.

    A worker needs it too: ``start_worker(extra_env={"TEST_EXTRA_APPS": CLOUDGEAR_APP})``.
    """
    before = catalog.declared()
    recipes.run_python("000-cloudgear-events")
    added = sorted(key for key, spec in catalog.declared().items() if before.get(key) is not spec)
    for key in added:
        event_type(key, description=catalog.declared()[key].description)
    yield added
    for key in added:
        catalog.unregister(key)
