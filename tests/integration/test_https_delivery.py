"""HTTPS deliveries against a test CA: trusted through HOOKLINE['EXTRA_CA_BUNDLE'], verified always, failures
explained."""

from __future__ import annotations

import ssl

import pytest
import trustme
from django.db import transaction
from django.urls import reverse

import events
from deliveries import transport
from deliveries.models import Attempt, Delivery
from deliveries.transport import guard
from tests.support.overrides import hookline
from tests.support.receiver import Receiver
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(test_ca, tmp_path) -> str:
    path = tmp_path / "test-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


def tls_receiver(ca: trustme.CA, *hosts: str) -> Receiver:
    """An https:// receiver on 127.0.0.1 whose certificate ``ca`` issued for ``hosts``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*hosts).configure_cert(context)
    return Receiver(tls=context)


@pytest.fixture(autouse=True)
def fresh_pools():
    """Pools read EXTRA_CA_BUNDLE when they are made: each test gets this process's pools anew."""
    guard._pools = None
    yield
    guard._pools = None


def request_to(url: str) -> transport.OutgoingRequest:
    return transport.OutgoingRequest(url=url, headers={"content-type": "application/json"}, body=b"{}")


# --- the transport, in this process ------------------------------------------------------------


def test_a_certificate_from_the_extra_ca_is_trusted_and_verified(test_ca, ca_bundle):
    # given
    with tls_receiver(test_ca, "127.0.0.1") as receiver, hookline(EXTRA_CA_BUNDLE=ca_bundle):
        # when
        result = transport.post(request_to(receiver.url("/in")))
    # then
    assert (result.status, result.error) == (200, "")


def test_without_the_extra_ca_the_same_certificate_is_refused(test_ca):
    with tls_receiver(test_ca, "127.0.0.1") as receiver:
        result = transport.post(request_to(receiver.url("/in")))
    assert result.status is None and result.error.startswith("TLS failed: ")
    assert "certificate verify failed" in result.error and receiver.requests == []


@pytest.mark.parametrize(
    "issuer, hosts, says",
    [
        ("another CA", ("127.0.0.1",), "certificate verify failed"),
        ("the test CA", ("localhost",), "mismatch"),  # a valid certificate, for another host
    ],
)
def test_a_wrong_ca_or_host_name_fails_with_a_clear_error(test_ca, ca_bundle, issuer, hosts, says):
    # given
    ca = trustme.CA() if issuer == "another CA" else test_ca
    with tls_receiver(ca, *hosts) as receiver, hookline(EXTRA_CA_BUNDLE=ca_bundle):
        # when
        result = transport.post(request_to(receiver.url("/in")))
    # then
    assert result.status is None and result.error.startswith("TLS failed: ")
    assert says in result.error and receiver.requests == []


def test_a_bad_extra_ca_bundle_fails_the_system_check(tmp_path):
    from hookline.checks import check_hookline_settings

    (tmp_path / "not-a-ca.pem").write_text("nope")
    with hookline(EXTRA_CA_BUNDLE=str(tmp_path / "not-a-ca.pem")):
        assert "hookline.E014" in [error.id for error in check_hookline_settings()]
    with hookline(EXTRA_CA_BUNDLE=str(tmp_path / "missing.pem")):
        assert "hookline.E014" in [error.id for error in check_hookline_settings()]


# --- end to end, through a real worker process -------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_https_deliveries_through_a_worker(
    start_worker, test_ca, ca_bundle, make_webhook, event_type, organisation, admin_client
):
    # given: three receivers (a good certificate, another CA's, one for another host name)
    event_type("invoice.paid")
    with (
        tls_receiver(test_ca, "127.0.0.1") as good,
        tls_receiver(trustme.CA(), "127.0.0.1") as wrong_ca,
        tls_receiver(test_ca, "localhost") as wrong_host,
    ):
        endpoints = {
            name: make_webhook(receiver.url("/in"), name=name, event_types=["invoice.paid"])[0]
            for name, receiver in (("good", good), ("wrong CA", wrong_ca), ("wrong host", wrong_host))
        }
        start_worker(hookline={"EXTRA_CA_BUNDLE": ca_bundle, "MAX_ATTEMPTS": 1})
        # when
        with transaction.atomic():
            event = events.emit("invoice.paid", {"invoice": 42}, organisation=organisation)
        wait_until(
            lambda: Delivery.objects.filter(event=event).exclude(status="pending").count() == 3,
            timeout=30,
            message="three settled deliveries",
        )
    # then
    attempts = {a.delivery.webhook.name: a for a in Attempt.objects.select_related("delivery__webhook")}
    assert attempts["good"].succeeded and attempts["good"].response_status == 200
    assert len(good.requests) == 1 and good.requests[0].json["data"] == {"invoice": 42}
    for name, says in (("wrong CA", "certificate verify failed"), ("wrong host", "mismatch")):
        attempt = attempts[name]
        assert not attempt.succeeded and attempt.response_status is None
        assert attempt.error.startswith("TLS failed: ") and says in attempt.error, attempt.error
        assert attempt.delivery.status == "failed"
        inspector = admin_client.get(reverse("admin:deliveries_delivery_change", args=[attempt.delivery.pk]))
        assert "TLS failed: " in inspector.content.decode()
    assert wrong_ca.requests == [] and wrong_host.requests == []
    assert set(endpoints) == set(attempts)
