"""Tests for deliveries.transport: one POST through the guarded urllib3 pools, against a real loopback receiver."""

from __future__ import annotations

import base64
import socket

import pytest

from deliveries import transport
from tests.support.overrides import hookline
from tests.support.receiver import Receiver, Reply, always

REAL_GETADDRINFO = socket.getaddrinfo


def request_to(url: str, **kwargs) -> transport.OutgoingRequest:
    return transport.OutgoingRequest(url=url, headers={"content-type": "application/json"}, body=b'{"a":1}', **kwargs)


def test_a_post_arrives_with_its_headers_and_body_and_the_answer_comes_back(receiver: Receiver) -> None:
    # given
    url = receiver.on(
        "/ok", lambda request, count: Reply(201, b'{"id":"r1"}', {"content-type": "application/json", "x-trace": "t1"})
    )

    # when
    result = transport.post(request_to(url))

    # then
    got = receiver.at("/ok")[0]
    assert (got.body, got.headers["content-type"]) == (b'{"a":1}', "application/json")
    assert (result.status, result.body, result.error, result.truncated) == (201, '{"id":"r1"}', "", False)
    assert result.headers["x-trace"] == "t1" and result.ok


def test_one_connection_is_kept_alive_across_posts(receiver: Receiver) -> None:
    # given
    url = receiver.on("/ok", always(200))

    # when
    results = [transport.post(request_to(url)) for _ in range(5)]

    # then
    assert [result.status for result in results] == [200] * 5
    pool = transport.pools().poolmanager.connection_from_url(url)
    assert pool.num_connections == 1


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    # given
    url = receiver.on("/moved", always(302, headers={"location": receiver.url("/elsewhere")}))

    # when
    result = transport.post(request_to(url))

    # then
    assert result.status == 302 and not result.ok
    assert receiver.at("/elsewhere") == []


def test_a_large_answer_is_cut_at_max_response_bytes_and_the_next_post_still_works(receiver: Receiver) -> None:
    # given
    big = receiver.on("/big", always(200, body=b"x" * 5_000))
    small = receiver.on("/small", always(200, body=b"fine"))

    # when
    with hookline(MAX_RESPONSE_BYTES=1000):
        cut = transport.post(request_to(big))
        after = transport.post(request_to(small))

    # then
    assert (len(cut.body), cut.truncated, cut.status) == (1000, True, 200)
    assert (after.body, after.truncated) == ("fine", False)


def test_basic_auth_is_sent_as_an_authorization_header(receiver: Receiver) -> None:
    # given
    url = receiver.on("/auth", always(200))

    # when
    transport.post(request_to(url, auth=("user", "pa:ss")))

    # then
    header = receiver.at("/auth")[0].headers["authorization"]
    assert header == "Basic " + base64.b64encode(b"user:pa:ss").decode()


def test_a_refused_connection_is_a_failed_attempt_not_an_exception() -> None:
    # given: a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    # when
    result = transport.post(request_to(f"http://127.0.0.1:{port}/"))

    # then
    assert result.status is None and not result.ok
    assert result.error == f"Connection failed: connection refused by 127.0.0.1:{port}"
    assert "ConnectionRefused" in result.detail or "Errno 111" in result.detail


def test_a_slow_answer_hits_the_read_timeout(receiver: Receiver) -> None:
    # given
    url = receiver.on("/slow", always(200, delay=1.0))

    # when
    with hookline(READ_TIMEOUT=0.2):
        result = transport.post(request_to(url))

    # then
    assert result.status is None
    assert result.error == "No response within the read timeout (0.2 s)"


def test_the_response_charset_is_honoured(receiver: Receiver) -> None:
    # given
    url = receiver.on(
        "/latin", always(200, body="café".encode("latin-1"), headers={"content-type": "text/plain; charset=latin-1"})
    )

    # when
    result = transport.post(request_to(url))

    # then
    assert result.body == "café"


def test_loopback_is_refused_unless_private_addresses_are_allowed(receiver: Receiver) -> None:
    # given
    url = receiver.on("/private", always(200))

    # when
    with hookline(ALLOW_PRIVATE_ADDRESSES=False):
        result = transport.post(request_to(url))

    # then
    assert result.error.startswith("Refused by the URL guard")
    assert receiver.at("/private") == []


def test_dns_rebinding_to_loopback_is_refused_at_connect_time(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    # given: a public-looking name that resolves to loopback when the connection is made
    def rebinding(host, *args, **kwargs):
        return REAL_GETADDRINFO("127.0.0.1" if host == "hooks.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    receiver.on("/rebind", always(200))

    # when
    with hookline(ALLOW_PRIVATE_ADDRESSES=False):
        result = transport.post(request_to(f"http://hooks.example.com:{receiver.server.server_address[1]}/rebind"))

    # then
    assert result.error.startswith("Refused by the URL guard")
    assert "127.0.0.1" in result.error
    assert receiver.at("/rebind") == []


def test_a_proxy_gets_the_absolute_url_after_the_target_is_checked(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    # given: the receiver plays the operator's outbound proxy (HOOKLINE PROXY is trusted even on
    # loopback; an endpoint's own proxy would be checked like a URL); the target resolves publicly
    def public(host, *args, **kwargs):
        return REAL_GETADDRINFO("93.184.216.34" if host == "hooks.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", public)
    proxy = receiver.url("")

    # when
    with hookline(ALLOW_PRIVATE_ADDRESSES=False, PROXY=proxy):
        result = transport.post(request_to("http://hooks.example.com/in", proxy=proxy))

    # then
    assert result.status == 200
    assert [request.path for request in receiver.requests] == ["http://hooks.example.com/in"]


def test_through_a_proxy_a_target_resolving_to_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    # given
    def loopback(host, *args, **kwargs):
        return REAL_GETADDRINFO("127.0.0.1" if host == "hooks.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback)

    # when
    with hookline(ALLOW_PRIVATE_ADDRESSES=False, PROXY=receiver.url("")):
        result = transport.post(request_to("http://hooks.example.com/in", proxy=receiver.url("")))

    # then
    assert result.error.startswith("Refused by the URL guard")
    assert receiver.requests == []
