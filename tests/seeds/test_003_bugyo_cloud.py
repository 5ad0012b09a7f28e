"""003 Bugyo Cloud (OBC): a JSON array of {id, eventkey, eventvalues, eventdatetime} per POST, a plain secret the
customer chose in X-OBC-Secret, only 200 succeeds (410 is not special), up to 17 retries, then the setting is
disabled until it is enabled again from the portal."""
from __future__ import annotations

import pytest
from django.db import transaction

import events
from deliveries.models import Delivery
from hooks import services
from hooks.models import Webhook
from tests.support.receiver import always

from .conftest import settle, statuses

pytestmark = [pytest.mark.integration, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
OBC_SECRET = "obc-shared-0123456789"  # what the customer registered
FAST = {"base_delay": 0.05, "max_delay": 0.1, "jitter": 0}  # ~3 days of retries, scaled down


def obc_webhook(url: str, organisation, **policy) -> Webhook:
    webhook, _ = services.create_webhook(
        url=url, organisation=organisation, name="Bugyo Cloud",
        event_types=["HM_EmployeeHistoryDivision_Created.1001", "GL_AccountItem_Created"],
        standard_signature=False, shared_secret_header="X-OBC-Secret", shared_secret=OBC_SECRET,
        contract={"preset": "bugyo-cloud", "policy": {**FAST, **policy}},
    )
    return webhook


def test_obc_sends_arrays_with_its_secret_accepts_only_200_and_disables_at_exhaustion(
        worker, receiver, organisation, event_type):
    # given
    event_type("GL_AccountItem_Created")
    event_type("HM_EmployeeHistoryDivision_Created", accepts_subkeys=True)
    picky = obc_webhook(receiver.on("/obc", statuses(201, 204, 410, 200)), organisation)
    dead = obc_webhook(receiver.on("/dead", always(500)), organisation)

    # when: three changes commit together, one of them for a division nobody subscribed to
    with transaction.atomic():
        emitted = [events.emit("GL_AccountItem_Created", {"AccountItemCode": "100"}, organisation=organisation),
                   events.emit("HM_EmployeeHistoryDivision_Created.1001", {"EmployeeId": 9}, organisation=organisation),
                   events.emit("HM_EmployeeHistoryDivision_Created.1002", {"EmployeeId": 8}, organisation=organisation)]

    # then: one POST carries both subscribed events as an array of OBC elements
    settle(picky, 2)
    tries = receiver.at("/obc")
    assert len(tries) == 4  # 201, 204 and 410 are failures here: retried; the 200 ends it
    assert len({r.body for r in tries}) == 1 and len({r.webhook_id for r in tries}) == 1  # the same batch each time
    first = tries[0]
    assert first.headers["x-obc-secret"] == OBC_SECRET and "webhook-signature" not in first.headers
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert [(e["id"], e["eventkey"], e["eventvalues"]) for e in first.json] == [
        (emitted[0].id, "GL_AccountItem_Created", {"AccountItemCode": "100"}),
        (emitted[1].id, "HM_EmployeeHistoryDivision_Created.1001", {"EmployeeId": 9}),
    ]
    assert all(e["eventdatetime"].endswith("Z") for e in first.json)
    assert {d.status for d in Delivery.objects.filter(webhook=picky)} == {"succeeded"}
    picky.refresh_from_db()
    assert picky.state == "valid"

    # and: a receiver that never answers 200 gets 1 + 17 attempts, then the setting is disabled (invalid)
    settle(dead, 2)
    assert len(receiver.at("/dead")) == 18
    dead.refresh_from_db()
    assert dead.state == "invalid" and {d.status for d in dead.deliveries.all()} == {"failed"}
    # and: enabled again from the portal, it receives again
    services.enable(dead)
    dead.refresh_from_db()
    assert dead.enabled
