"""Tests for deliveries.transport through a real loopback forward proxy: absolute-URI forwarding and CONNECT tunnels."""

from __future__ import annotations

import base64
import socket

import pytest

from deliveries import transport
from deliveries.transport import OutgoingRequest
from tests.support.certificates import server_context, write_self_signed
from tests.support.overrides import hookline
from tests.support.proxy import ForwardProxy
from tests.support.receiver import Receiver


def request_to(url: str, proxy: str) -> OutgoingRequest:
    return OutgoingRequest(
        url=url, headers={"content-type": "application/json", "webhook-id": "msg_1"}, body=b'{"a":1}', proxy=proxy
    )


@pytest.fixture
def proxy():
    with ForwardProxy() as running:
        yield running


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An https:// receiver whose self-signed certificate the transport trusts.

    urllib3 verifies against OpenSSL's default store, which SSL_CERT_FILE replaces for new connections.
    """
    cert, key = write_self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with Receiver(tls=server_context(cert, key)) as running:
        yield running


@pytest.mark.parametrize("global_proxy", [True, False], ids=["global", "per-endpoint"])
def test_plain_http_goes_through_the_proxy_in_absolute_form(proxy, receiver, global_proxy):
    # given
    url = receiver.url("/in")
    # when
    with hookline(PROXY=proxy.url if global_proxy else ""):
        result = transport.post(request_to(url, proxy.url))
    # then
    assert (result.status, result.error) == (200, "")
    assert [entry.target for entry in proxy.forwarded("POST")] == [url]
    assert receiver.at("/in")[0].headers["webhook-id"] == "msg_1"
    assert receiver.at("/in")[0].body == b'{"a":1}'


@pytest.mark.parametrize("global_proxy", [True, False], ids=["global", "per-endpoint"])
def test_https_goes_through_a_connect_tunnel(proxy, tls_receiver, global_proxy):
    # given
    url = tls_receiver.url("/secure")
    port = tls_receiver.server.server_address[1]
    # when
    with hookline(PROXY=proxy.url if global_proxy else ""):
        result = transport.post(request_to(url, proxy.url))
    # then: the proxy saw only a tunnel; the request inside it was TLS end to end
    assert (result.status, result.error) == (200, "")
    assert [entry.target for entry in proxy.forwarded("CONNECT")] == [f"127.0.0.1:{port}"]
    assert proxy.forwarded("POST") == []
    assert tls_receiver.at("/secure")[0].headers["webhook-id"] == "msg_1"


def test_without_a_proxy_nothing_passes_through_it(proxy, receiver):
    result = transport.post(request_to(receiver.url("/in"), ""))
    assert result.status == 200
    assert proxy.passed == []


def test_an_unreachable_proxy_is_a_failed_attempt_that_does_not_show_its_password():
    # given: a global proxy with credentials, on a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    proxy = f"http://egress:pr0xy-pw@127.0.0.1:{dead}"
    # when
    with hookline(PROXY=proxy):
        result = transport.post(request_to("http://127.0.0.1:9/in", proxy))
    # then
    assert result.status is None
    assert result.error
    assert "pr0xy-pw" not in result.error


@pytest.mark.parametrize("tls", [False, True], ids=["absolute-form", "CONNECT"])
def test_the_global_proxys_credentials_go_in_proxy_authorization(proxy, receiver, tls_receiver, tls):
    # given: HOOKLINE['PROXY'] with credentials (an endpoint's own proxy cannot carry any)
    with_credentials = proxy.url.replace("http://", "http://egress:pr%40xy@")
    url = tls_receiver.url("/in") if tls else receiver.url("/in")
    # when
    with hookline(PROXY=with_credentials):
        result = transport.post(request_to(url, with_credentials))
    # then: the proxy got Basic credentials (percent-decoded), the receiver never saw them
    assert (result.status, result.error) == (200, "")
    (passed,) = proxy.forwarded("CONNECT" if tls else "POST")
    assert passed.headers["proxy-authorization"] == "Basic " + base64.b64encode(b"egress:pr@xy").decode()
    arrived = (tls_receiver if tls else receiver).at("/in")[0]
    assert "proxy-authorization" not in arrived.headers
