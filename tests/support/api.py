"""API test fixtures: members of two organisations with tokens, their clients, and delivery-log rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from deliveries.models import Attempt, Delivery
from events.models import Event


@pytest.fixture
def member(organisation):
    """alice: a member of Acme (the ``organisation`` fixture)."""
    user = get_user_model().objects.create_user("alice", password="pw")
    organisation.members.add(user)
    return user


@pytest.fixture
def outsider(other_organisation):
    """bob: a member of Globex only."""
    user = get_user_model().objects.create_user("bob", password="pw")
    other_organisation.members.add(user)
    return user


@pytest.fixture
def client_for(db):
    """``client_for(user)``: an APIClient sending that user's token."""

    def build(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return build


@pytest.fixture
def api(client_for, member) -> APIClient:
    return client_for(member)


@pytest.fixture
def make_delivery(db):
    """``make_delivery(webhook, status="failed", attempts=[500, 500])``: an event, its delivery and its attempts."""

    def create(webhook, *, status="pending", attempts=(), event_type="invoice.paid", created_at=None) -> Delivery:
        now = created_at or timezone.now()
        event = Event.objects.create(
            type=event_type,
            payload={"invoice": 1},
            organisation=webhook.organisation,
            created_at=now,
            dispatched_at=now,
        )
        delivery = Delivery.objects.create(
            event=event,
            webhook=webhook,
            status=status,
            created_at=now,
            attempts=len(attempts),
            total_attempts=len(attempts),
            last_status_code=attempts[-1] if attempts else None,
            next_attempt_at=now if status == "pending" else None,
        )
        Attempt.objects.bulk_create(
            Attempt(
                delivery=delivery,
                number=number,
                created_at=now + timedelta(seconds=number),
                request_url=webhook.masked_url,
                request_headers={"webhook-id": event.id, "webhook-signature": f"v1,sig{number}"},
                request_body='{"type":"invoice.paid"}',
                response_status=code,
                response_body="nope",
                succeeded=200 <= code < 300,
            )
            for number, code in enumerate(attempts, start=1)
        )
        return delivery

    return create


@pytest.fixture
def public_dns(monkeypatch):
    """Every host name resolves to one public address: URL checks pass without real DNS (and send nothing)."""
    monkeypatch.setattr("hooks.urlguard._resolve", lambda host, port: ["93.184.216.34"])
