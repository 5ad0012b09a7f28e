"""Tests for deliveries.lifecycle: the named transitions, and that no other module writes a delivery's status or
lease."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

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
        event = Event.objects.create(
            type="invoice.paid", payload={"n": index}, organisation=organisation, created_at=now
        )
        created.append(
            Delivery.objects.create(
                event=event,
                webhook=webhook,
                created_at=now,
                next_attempt_at=now,
                claimed_until=now + timedelta(minutes=2),
                claim_token="t0ken",
            )
        )
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
    first, *_others = deliveries
    first.status, first.last_status_code = Delivery.Status.FAILED, 400

    # when
    lifecycle.settle([first])

    # then
    assert Delivery.objects.get(id=first.id).status == "failed"
    assert set(Delivery.objects.exclude(id=first.id).values_list("status", "claim_token")) == {("pending", "t0ken")}


# --- one module writes a delivery's status and lease ------------------------------------------------

LIFECYCLE_FIELDS = ("status", "claimed_until", "claim_token", "next_attempt_at")
# lifecycle.py, and claims.py: the UPDATE … RETURNING statement that lifecycle.claim() runs.
ALLOWED = {"deliveries/lifecycle.py", "deliveries/claims.py"}
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("deliveries", "hooks", "events", "hookline", "webhooks_project")
FIELD = "|".join(LIFECYCLE_FIELDS)
# ``delivery.status = …``, ``d.next_attempt_at, d.x = …`` (not ``==``), on anything but a transport result.
ASSIGNMENT = re.compile(
    rf"(?:^\s*|=\s*)(?!result\.)[\w.\[\]]+\.(?:{FIELD})\b(?:\s*,\s*[\w.\[\]]+)*\s*=(?!=)", re.MULTILINE
)
# ``….update(…status=…)``, ``Delivery(…next_attempt_at=…)``, ``Delivery.objects.create(…status=…)``.
CALL = re.compile(
    r"(?:\.update|\bDelivery|Delivery\.objects\.create|\.bulk_update)\(((?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\)"
)
KEYWORD = re.compile(rf"(?<![\w.])(?:{FIELD})\s*=(?!=)")


def product_files():
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and relative not in ALLOWED:
                yield relative, path.read_text()


def test_no_module_but_lifecycle_writes_a_deliverys_status_or_lease():
    offenders = []
    for relative, text in product_files():
        for match in ASSIGNMENT.finditer(text):
            offenders.append(f"{relative}: {match.group(0).strip()}")
        for match in CALL.finditer(text):
            if KEYWORD.search(match.group(1)) and "Webhook" not in text[max(0, match.start() - 80) : match.start()]:
                offenders.append(f"{relative}: {match.group(0)[:80]}")
    assert offenders == []


def test_the_grep_sees_a_write_outside_the_lifecycle():
    assert ASSIGNMENT.search("        delivery.status, delivery.completed_at = 'failed', now\n")
    assert ASSIGNMENT.search("        retry_at = delivery.next_attempt_at = now + delay\n")
    assert KEYWORD.search(CALL.search("Delivery.objects.filter(id__in=ids).update(\n    claim_token='',\n)").group(1))
    assert not ASSIGNMENT.search("    if delivery.status == 'pending':\n")
    assert not CALL.search("Delivery.objects.filter(status='pending').count()")  # a read, not a write
