"""Tests for the transport's send-time URL guard: connect-time address checks (DNS rebinding) and proxies."""

from __future__ import annotations

import pytest

from deliveries import transport
from deliveries.transport.guard import GuardedPools
from hooks.urlguard import check_url
from tests.support.dns import fake_dns
from tests.support.overrides import hookline
from tests.support.receiver import Receiver, always

PRIVATE = "ALLOW_PRIVATE_ADDRESSES"


def request_to(url: str, proxy: str = "") -> transport.OutgoingRequest:
    headers = {"content-type": "application/json"}
    return transport.OutgoingRequest(url=url, headers=headers, body=b'{"a":1}', proxy=proxy)


def test_dns_rebinding_is_refused_at_connect_time(monkeypatch, receiver: Receiver) -> None:
    # given: a public-looking name that (now) resolves to loopback
    port = receiver.server.server_address[1]
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    url = f"http://rebind.example.test:{port}/"
    check_url(url, allow_private=False, resolve=False)  # it passed the save-time check
    # when
    with hookline(**{PRIVATE: False}):
        result = transport.post(request_to(url))
    # then: refused before a byte was sent, and the reason is kept
    assert receiver.requests == []
    assert result.status is None
    assert result.error.startswith("Refused by the URL guard")
    assert "rebind.example.test (resolves to 127.0.0.1) is a loopback address" in result.error


def test_the_request_arrives_when_private_addresses_are_allowed(monkeypatch, receiver: Receiver) -> None:
    # given
    port = receiver.server.server_address[1]
    receiver.on("/hook", always(204))
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    # when
    with hookline(**{PRIVATE: True}):
        result = transport.post(request_to(f"http://rebind.example.test:{port}/hook"))
    # then
    assert (result.status, result.error) == (204, "")
    assert len(receiver.at("/hook")) == 1


def test_a_kept_alive_connection_is_not_reused_once_private_addresses_are_disallowed(monkeypatch, receiver) -> None:
    # given: a pooled keep-alive connection to loopback, made while it was allowed
    port = receiver.server.server_address[1]
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    url = f"http://rebind.example.test:{port}/"
    with hookline(**{PRIVATE: True}):
        assert transport.post(request_to(url)).status == 200
    # when
    with hookline(**{PRIVATE: False}):
        result = transport.post(request_to(url))
    # then
    assert "loopback" in result.error
    assert len(receiver.requests) == 1


def test_https_targets_are_checked_at_connect_time_too(monkeypatch, receiver: Receiver) -> None:
    # given
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    # when
    with hookline(**{PRIVATE: False}):
        result = transport.post(request_to(f"https://rebind.example.test:{receiver.server.server_address[1]}/"))
    # then
    assert "resolves to 127.0.0.1" in result.error
    assert receiver.requests == []


def test_ip_literals_are_refused_at_send_time(receiver: Receiver) -> None:
    with hookline(**{PRIVATE: False}):
        result = transport.post(request_to(receiver.url("/")))
    assert "127.0.0.1 is a loopback address" in result.error
    assert receiver.requests == []


def test_send_refuses_bad_schemes_before_connecting() -> None:
    with hookline(REQUIRE_HTTPS=True):
        result = transport.post(request_to("http://127.0.0.1:9/"))
    assert "https:// is required" in result.error


def test_through_a_proxy_the_target_is_resolved_and_checked(monkeypatch, receiver: Receiver) -> None:
    # given: the loopback receiver plays the operator's (trusted) proxy
    proxy = receiver.url("")
    fake_dns(monkeypatch, {"rebind.example.test": ["10.0.0.7"], "hooks.example.test": ["93.184.216.34"]})
    # when: the target resolves to a private address
    with hookline(**{PRIVATE: False, "PROXY": proxy}):
        refused = transport.post(request_to("http://rebind.example.test/", proxy))
    assert "resolves to 10.0.0.7" in refused.error
    assert receiver.requests == []
    # when: the target is public, the operator's (loopback) proxy itself is not refused
    with hookline(**{PRIVATE: False, "PROXY": proxy}):
        result = transport.post(request_to("http://hooks.example.test/in", proxy))
    # then
    assert (result.status, result.error) == (200, "")
    assert [request.path for request in receiver.requests] == ["http://hooks.example.test/in"]


@pytest.mark.parametrize("target", ["http://hooks.example.test/in", "https://hooks.example.test/in"])
def test_an_endpoint_proxy_on_loopback_is_refused_at_connect_time(monkeypatch, receiver: Receiver, target) -> None:
    # given: a tenant-set proxy (not HOOKLINE['PROXY']) that is really this machine
    fake_dns(monkeypatch, {"hooks.example.test": ["93.184.216.34"]})
    # when
    with hookline(**{PRIVATE: False, "PROXY": ""}):
        result = transport.post(request_to(target, receiver.url("")))
    # then: nothing reached the "proxy", and the message says it was the proxy
    assert receiver.requests == []
    assert "the endpoint's proxy" in result.error
    assert "127.0.0.1 is a loopback address" in result.error


def test_an_endpoint_proxy_name_rebound_to_loopback_is_refused(monkeypatch, receiver: Receiver) -> None:
    # given: the proxy's name passed the save-time check, and now resolves to loopback
    port = receiver.server.server_address[1]
    fake_dns(monkeypatch, {"proxy.example.test": ["127.0.0.1"], "hooks.example.test": ["93.184.216.34"]})
    # when
    with hookline(**{PRIVATE: False, "PROXY": ""}):
        result = transport.post(request_to("http://hooks.example.test/in", f"http://proxy.example.test:{port}"))
    # then
    assert "the endpoint's proxy" in result.error and "proxy.example.test" in result.error
    assert receiver.requests == []


def test_an_endpoint_proxy_is_used_when_private_addresses_are_allowed(monkeypatch, receiver: Receiver) -> None:
    # given
    fake_dns(monkeypatch, {"hooks.example.test": ["93.184.216.34"]})
    # when
    with hookline(**{PRIVATE: True, "PROXY": ""}):
        result = transport.post(request_to("http://hooks.example.test/in", receiver.url("")))
    # then: the request went to the proxy, in absolute form
    assert result.status == 200
    assert [request.path for request in receiver.requests] == ["http://hooks.example.test/in"]


def test_pools_keep_their_size_for_direct_and_proxied_requests() -> None:
    pools = GuardedPools(hosts=3, per_host=7)
    for manager in (pools.poolmanager, pools.proxy_manager_for("http://proxy.example.test:3128")):
        assert manager.connection_pool_kw["maxsize"] == 7
        assert manager.pools._maxsize == 3
    pools.close()
