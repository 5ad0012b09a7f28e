"""003 Bugyo Cloud (OBC): a JSON array of {id, eventkey, eventvalues, eventdatetime} per POST, ids as upper-case
GUIDs that stay the same on every retry, the document's Accept and Accept-Charset headers, a plain secret the
customer chose in X-OBC-Secret, only 200 succeeds (410 is not special), 17 retries, then the setting is disabled
until PATCH enabled=true enables it again. Configured by the published recipes, as written."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.db import transaction

import events
from deliveries import services as deliveries
from deliveries.models import Delivery
from hooks import services
from tests.support.receiver import always
from tests.support.waiting import wait_until

from .conftest import emit, settle, statuses

pytestmark = [pytest.mark.integration, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
OBC_SECRET = "obc-shared-0123456789"  # what the recipe registers as the customer's value
FAST = {"base_delay": 0.05, "max_delay": 0.1, "jitter": 0}  # ~3 days of retries, scaled down
GUID = re.compile(
    r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
)  # 52A4C69D-9641-4147-860D-FFA5C207FDAB


def test_obc_sends_arrays_with_its_headers_accepts_only_200_and_disables_at_exhaustion(
    start_worker, receiver, organisation, event_type, recipe, shell
):
    # given: the OBC setting of the recipe, as published (its retry delays scaled down through the same keys)
    event_type("GL_AccountItem_Created")
    event_type("HM_EmployeeHistoryDivision_Created", accepts_subkeys=True)
    obc = recipe("003-bugyo-cloud")["obc"]
    # (contract= replaces every option, the recipe's signature section too: its delays are changed in place)
    services.update_webhook(obc, contract={**obc.contract, "policy": {**obc.contract.get("policy", {}), **FAST}})
    path = urlsplit(obc.url).path
    receiver.on(path, statuses(201, 204, 410, 200))
    start_worker()

    # when: three changes commit together, one of them for a division nobody subscribed to
    with transaction.atomic():
        emitted = [
            events.emit("GL_AccountItem_Created", {"AccountItemCode": "100"}, organisation=organisation),
            events.emit("HM_EmployeeHistoryDivision_Created.1001", {"EmployeeId": 9}, organisation=organisation),
            events.emit("HM_EmployeeHistoryDivision_Created.1002", {"EmployeeId": 8}, organisation=organisation),
        ]

    # then: one POST carries both subscribed events as an array of OBC elements, the same one on every retry
    settle(obc, 2)
    tries = receiver.at(path)
    assert len(tries) == 4  # 201, 204 and 410 are failures here: retried; the 200 ends it
    assert len({r.body for r in tries}) == 1 and len({r.webhook_id for r in tries}) == 1
    first = tries[0]
    assert first.headers["accept"] == "application/json" and first.headers["accept-charset"] == "utf-8"
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["x-obc-secret"] == OBC_SECRET and "webhook-signature" not in first.headers
    assert [(e["eventkey"], e["eventvalues"]) for e in first.json] == [
        ("GL_AccountItem_Created", {"AccountItemCode": "100"}),
        ("HM_EmployeeHistoryDivision_Created.1001", {"EmployeeId": 9}),
    ]
    ids = [element["id"] for element in first.json]
    assert all(GUID.fullmatch(element_id) for element_id in ids) and len(set(ids)) == 2
    assert not {event.id for event in emitted} & set(ids)
    assert all(e["eventdatetime"].endswith("Z") for e in first.json)
    assert {d.status for d in Delivery.objects.filter(webhook=obc)} == {"succeeded"}
    obc.refresh_from_db()
    assert obc.state == "valid"

    # when: one of them is sent again
    receiver.on(path, always(200))
    deliveries.redeliver(Delivery.objects.get(webhook=obc, event=emitted[0]))

    # then: it keeps its id
    (again,) = wait_until(lambda: receiver.at(path)[4:], timeout=60, message="the redelivery")
    assert [element["id"] for element in again.json] == ids[:1]

    # when: the receiver stops answering 200
    receiver.on(path, always(500))
    emit("GL_AccountItem_Created", {"AccountItemCode": "200"}, organisation)

    # then: 1 + 17 attempts, then the setting is disabled (invalid) and receives nothing
    failed = wait_until(lambda: obc.deliveries.filter(status="failed").first(), timeout=90, message="exhaustion")
    assert failed.attempts == 18 and len(receiver.at(path)[5:]) == 18
    obc.refresh_from_db()
    assert obc.state == "invalid" and not obc.enabled

    # when: enabled again, as the recipe says (the document's "from the admin portal")
    receiver.on(path, always(200))
    (enabled,) = shell("003-bugyo-cloud-enable", ID=str(obc.pk))

    # then: it receives again
    assert (enabled["enabled"], enabled["state"]) == (True, "new")
    msg_id = emit("GL_AccountItem_Created", {"AccountItemCode": "300"}, organisation)
    wait_until(
        lambda: obc.deliveries.filter(event_id=msg_id, status="succeeded").exists(),
        timeout=60,
        message="a delivery after re-enabling",
    )
