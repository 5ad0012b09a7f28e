"""Tests for hooks.urlguard: save-time URL checks and the connect-time DNS-rebinding defence."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from hooks.urlguard import (
    BlockedRequest,
    GuardedAdapter,
    UnsafeURL,
    check_address,
    check_proxy_url,
    check_url,
    mask_url,
    split_credentials,
)
from tests.support.overrides import hookline

REAL_GETADDRINFO = socket.getaddrinfo



def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> None:
    """Make socket.getaddrinfo answer ``table`` for its names; anything else is resolved for real."""

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        if host not in table:
            return REAL_GETADDRINFO(host, port, family, type, proto, flags)
        if not table[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (ip, port or 0, 0, 0) if ":" in ip else (ip, port or 0))
            for ip in table[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- check_url: hostile URLs --------------------------------------------------------------------

PRIVATE = "ALLOW_PRIVATE_ADDRESSES"

HOSTILE = [
    # loopback, every spelling
    ("http://127.0.0.1/", "loopback"),
    ("http://127.255.0.9:8080/x", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f.0.0.1/", "loopback"),  # hex part
    ("http://0x7f000001/", "loopback"),  # hex whole
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://127.1/", "loopback"),  # short form
    ("http://127.000.000.001/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", "loopback"),  # IPv4-mapped, hex
    ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4
    ("http://１２７.０.０.１/", "loopback"),  # fullwidth digits (UTS 46 maps them to ASCII)
    ("http://127。0。0。1/", "loopback"),  # ideographic full stops
    ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "local-only host name"),  # circled letters, mapped by UTS 46
    ("http://localhost/", "local-only host name"),
    ("http://localhost./", "local-only host name"),  # trailing dot
    ("http://LOCALHOST../", "local-only host name"),
    ("http://api.localhost/", "local-only host name"),
    ("http://localhost.localdomain/", "local-only host name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local-only host name"),
    ("http://printer.local/", "local-only host name"),
    ("http://redis:6379/", "single-label"),
    # private, shared, link-local
    ("http://10.0.0.5/", "10.0.0.5 is a private address"),
    ("https://172.16.3.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    # multicast, reserved, unspecified, special
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250:1900/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://0.1.2.3/", "this network"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.10/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "192.0.2.45"),  # Teredo
    # malformed hosts
    ("http://1.2.3.256/", "not a valid one"),
    ("http://08.0.0.1/", "not a valid one"),
    ("http://a..b.example/", "not a valid host name"),
    ("http://exa%6dple.com/", "not a valid host name"),
    ("http://xn--zz.example/", "not valid IDNA"),
    ("http://[not-an-ip]/", "invalid URL"),
    # schemes
    ("file:///etc/passwd", "Only http:// and https://"),
    ("gopher://example.com:70/_x", "Only http:// and https://"),
    ("ftp://example.com/", "Only http:// and https://"),
    ("javascript:alert(1)", "Only http:// and https://"),
    ("//example.com/hook", "Only http:// and https://"),
    ("example.com/hook", "Only http:// and https://"),
    # missing host, ports, whitespace and parser tricks
    ("http:///hook", "no host"),
    ("http://user:pw@/hook", "no host"),
    ("http://./", "no host"),
    ("http://example.com:99999/", "Port out of range"),
    ("http://example.com:http/", "invalid URL"),
    ("http://example.com:0/", "port 0"),
    ("http://example.com /hook", "whitespace"),
    (" http://example.com/hook", "whitespace"),
    ("http://example.com/ho\nok", "whitespace"),
    ("http://exam\tple.com/", "whitespace"),
    ("http://example.com\x00.evil/", "control"),
    ("http://example.com\\@127.0.0.1/", "backslash"),
]


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_hostile_urls_are_refused_with_the_reason(url: str, why: str) -> None:
    # when
    with pytest.raises(UnsafeURL) as refused:
        check_url(url, allow_private=False, resolve=False)
    # then
    assert why in str(refused.value)


def test_address_refusal_tells_the_operator_how_to_allow_it() -> None:
    # when
    with pytest.raises(UnsafeURL) as refused:
        check_url("http://10.0.0.5/", allow_private=False, resolve=False)
    # then
    assert str(refused.value) == (
        "Refused: 10.0.0.5 is a private address (set HOOKLINE['ALLOW_PRIVATE_ADDRESSES'] for development)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "https://93.184.216.34/x",
        "http://example.com:8080/hooks?a=1#frag",
        "https://user:p%40ss@hooks.example.com/in",
        "https://EXAMPLE.com./hook",
        "https://bücher.example/hook",
        "https://xn--bcher-kva.example/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        "https://[::ffff:93.184.216.34]/hook",
        "https://[64:ff9b::5db8:d822]/hook",  # NAT64 of a public address
        "https://8.8.8.8:443/",
    ],
)
def test_public_urls_are_accepted(url: str) -> None:
    check_url(url, allow_private=False, require_https=False, resolve=False)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/", "http://localhost/", "http://[::1]/", "http://redis/", "http://0x7f.1/"]
)
def test_allow_private_accepts_internal_targets(url: str) -> None:
    check_url(url, allow_private=True, resolve=False)


def test_allow_private_still_refuses_bad_schemes() -> None:
    with pytest.raises(UnsafeURL, match="Only http"):
        check_url("file:///etc/passwd", allow_private=True, resolve=False)


def test_defaults_come_from_settings_at_call_time() -> None:
    with hookline(**{PRIVATE: False}):
        with pytest.raises(UnsafeURL):
            check_url("http://127.0.0.1/", resolve=False)
    with hookline(**{PRIVATE: True}):
        check_url("http://127.0.0.1/", resolve=False)


# --- check_url: resolution ----------------------------------------------------------------------


def test_a_name_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    fake_dns(monkeypatch, {"sneaky.example.com": ["127.0.0.1"]})
    # when
    with pytest.raises(UnsafeURL) as refused:
        check_url("https://sneaky.example.com/hook", allow_private=False)
    # then
    assert "sneaky.example.com (resolves to 127.0.0.1) is a loopback address" in str(refused.value)


def test_a_name_resolving_to_loopback_is_allowed_with_allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"sneaky.example.com": ["127.0.0.1"]})
    check_url("https://sneaky.example.com/hook", allow_private=True)


def test_one_unsafe_address_among_many_refuses_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.example.com": ["93.184.216.34", "2606:2800:220:1::1", "10.1.2.3"]})
    with pytest.raises(UnsafeURL, match="resolves to 10.1.2.3"):
        check_url("https://mixed.example.com/", allow_private=False)


def test_a_name_resolving_to_mapped_ipv6_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"v6.example.com": ["::ffff:127.0.0.1"]})
    with pytest.raises(UnsafeURL, match="loopback"):
        check_url("https://v6.example.com/", allow_private=False)


def test_a_name_resolving_to_public_addresses_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})
    check_url("https://hooks.example.com/", allow_private=False)


def test_an_unresolvable_name_is_refused_only_when_resolving(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"nowhere.example.com": []})
    with pytest.raises(UnsafeURL, match="cannot be resolved"):
        check_url("https://nowhere.example.com/", allow_private=False)
    check_url("https://nowhere.example.com/", allow_private=False, resolve=False)


# --- check_address --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "10.0.0.5", "169.254.169.254", "100.64.0.1", "::1", "fe80::1%eth0", "::ffff:10.0.0.1", "[::1]"],
)
def test_check_address_refuses_internal_addresses(ip: str) -> None:
    with pytest.raises(UnsafeURL, match="Refused"):
        check_address(ip, allow_private=False)
    check_address(ip, allow_private=True)


@pytest.mark.parametrize("ip", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_check_address_accepts_public_addresses(ip: str) -> None:
    check_address(ip, allow_private=False)


def test_check_address_refuses_non_addresses() -> None:
    with pytest.raises(UnsafeURL, match="not an IP address"):
        check_address("example.com", allow_private=True)


# --- REQUIRE_HTTPS -----------------------------------------------------------------------------------


def test_require_https_refuses_plain_http() -> None:
    with pytest.raises(UnsafeURL, match=r"https:// is required \(HOOKLINE\['REQUIRE_HTTPS'\]\)"):
        check_url("http://example.com/hook", require_https=True, resolve=False)
    check_url("https://example.com/hook", require_https=True, resolve=False)
    check_url("http://example.com/hook", require_https=False, resolve=False)


def test_require_https_default_comes_from_settings() -> None:
    with hookline(REQUIRE_HTTPS=True), pytest.raises(UnsafeURL, match="https:// is required"):
        check_url("http://example.com/hook", resolve=False)
    with hookline(REQUIRE_HTTPS=False):
        check_url("http://example.com/hook", resolve=False)


# --- split_credentials and mask_url ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://alice:s3cret@hooks.example.com/in", ("https://hooks.example.com/in", "alice", "s3cret")),
        (
            "https://al%40ice:p%3Aw%2Fd@h.example:8443/p?q=a@b#f",
            ("https://h.example:8443/p?q=a@b#f", "al@ice", "p:w/d"),
        ),
        ("https://alice@h.example/", ("https://h.example/", "alice", "")),
        ("https://:token@h.example/", ("https://h.example/", "", "token")),
        ("https://h.example/path?next=u:p@x", ("https://h.example/path?next=u:p@x", "", "")),
        ("https://h.example", ("https://h.example", "", "")),
        ("https://u:p@[::1]:8080/?", ("https://[::1]:8080/?", "u", "p")),
    ],
)
def test_split_credentials(url: str, expected: tuple[str, str, str]) -> None:
    assert split_credentials(url) == expected


@pytest.mark.parametrize(
    ("url", "username", "expected"),
    [
        ("https://h.example/in?x=1", "alice", "https://alice:***@h.example/in?x=1"),
        ("https://h.example/in", "", "https://h.example/in"),
        ("https://alice:s3cret@h.example/in", "", "https://alice:***@h.example/in"),
        ("https://alice:s3cret@h.example/in", "bob", "https://bob:***@h.example/in"),
        ("https://h.example:8443/", "a@b", "https://a%40b:***@h.example:8443/"),
    ],
)
def test_mask_url(url: str, username: str, expected: str) -> None:
    assert mask_url(url, username) == expected
    assert "s3cret" not in mask_url(url, username)


# --- GuardedAdapter: connect-time checks against a real loopback server -----------------------------


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str]] = []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.requests.append((self.command, self.path))  # type: ignore[attr-defined]
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # no proxy from the environment: only 127.0.0.1 gets traffic
        adapter = GuardedAdapter()
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        yield s


def test_dns_rebinding_is_refused_at_connect_time(monkeypatch, receiver, session) -> None:
    # given: a public-looking name that (now) resolves to loopback
    port = receiver.server_address[1]
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    url = f"http://rebind.example.test:{port}/"
    check_url(url, allow_private=False, resolve=False)  # it passed the save-time check
    # when
    with hookline(**{PRIVATE: False}), pytest.raises(BlockedRequest) as refused:
        session.post(url, json={"a": 1}, timeout=5)
    # then: refused before a byte was sent, as both a requests error and an UnsafeURL
    assert receiver.requests == []
    assert isinstance(refused.value, requests.ConnectionError)
    assert isinstance(refused.value, UnsafeURL)
    assert "rebind.example.test (resolves to 127.0.0.1) is a loopback address" in str(refused.value)


def test_the_request_arrives_when_private_addresses_are_allowed(monkeypatch, receiver, session) -> None:
    # given
    port = receiver.server_address[1]
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    # when
    with hookline(**{PRIVATE: True}):
        response = session.post(f"http://rebind.example.test:{port}/hook", json={"a": 1}, timeout=5)
    # then
    assert response.status_code == 204
    assert receiver.requests == [("POST", "/hook")]


def test_a_kept_alive_connection_is_not_reused_once_private_addresses_are_disallowed(
    monkeypatch, receiver, session
) -> None:
    # given: a pooled keep-alive connection to loopback, made while it was allowed
    port = receiver.server_address[1]
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    url = f"http://rebind.example.test:{port}/"
    with hookline(**{PRIVATE: True}):
        assert session.post(url, timeout=5).status_code == 204
    # when
    with hookline(**{PRIVATE: False}), pytest.raises(BlockedRequest, match="loopback"):
        session.post(url, timeout=5)
    # then
    assert len(receiver.requests) == 1


def test_https_targets_are_checked_at_connect_time_too(monkeypatch, receiver, session) -> None:
    # given
    fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1"]})
    # when
    with hookline(**{PRIVATE: False}), pytest.raises(BlockedRequest, match="resolves to 127.0.0.1"):
        session.post(f"https://rebind.example.test:{receiver.server_address[1]}/", timeout=5)
    # then
    assert receiver.requests == []


def test_ip_literals_are_refused_at_send_time(receiver, session) -> None:
    port = receiver.server_address[1]
    with hookline(**{PRIVATE: False}), pytest.raises(BlockedRequest, match="127.0.0.1 is a loopback address"):
        session.post(f"http://127.0.0.1:{port}/", timeout=5)
    assert receiver.requests == []


def test_send_refuses_bad_schemes_before_connecting(session) -> None:
    with hookline(REQUIRE_HTTPS=True), pytest.raises(BlockedRequest, match="https:// is required"):
        session.post("http://127.0.0.1:9/", timeout=5)


def test_through_a_proxy_the_target_is_resolved_and_checked(monkeypatch, receiver, session) -> None:
    # given: the loopback receiver plays the operator's (trusted) proxy
    proxy = f"http://127.0.0.1:{receiver.server_address[1]}"
    fake_dns(monkeypatch, {"rebind.example.test": ["10.0.0.7"], "hooks.example.test": ["93.184.216.34"]})
    # when: the target resolves to a private address
    with hookline(**{PRIVATE: False, "PROXY": proxy}), pytest.raises(BlockedRequest, match="resolves to 10.0.0.7"):
        session.post("http://rebind.example.test/", proxies={"http": proxy}, timeout=5)
    assert receiver.requests == []
    # when: the target is public, the operator's (loopback) proxy itself is not refused
    with hookline(**{PRIVATE: False, "PROXY": proxy}):
        response = session.post("http://hooks.example.test/in", proxies={"http": proxy}, timeout=5)
    # then
    assert response.status_code == 204
    assert receiver.requests == [("POST", "http://hooks.example.test/in")]


@pytest.mark.parametrize("target", ["http://hooks.example.test/in", "https://hooks.example.test/in"])
def test_an_endpoint_proxy_on_loopback_is_refused_at_connect_time(monkeypatch, receiver, session, target) -> None:
    # given: a tenant-set proxy (not HOOKLINE['PROXY']) that is really this machine
    proxy = f"http://127.0.0.1:{receiver.server_address[1]}"
    fake_dns(monkeypatch, {"hooks.example.test": ["93.184.216.34"]})
    # when
    with hookline(**{PRIVATE: False, "PROXY": ""}), pytest.raises(BlockedRequest) as refused:
        session.post(target, proxies={"http": proxy, "https": proxy}, timeout=5)
    # then: nothing reached the "proxy", and the message says it was the proxy
    assert receiver.requests == []
    assert "the endpoint's proxy" in str(refused.value)
    assert "127.0.0.1 is a loopback address" in str(refused.value)


def test_an_endpoint_proxy_name_rebound_to_loopback_is_refused(monkeypatch, receiver, session) -> None:
    # given: the proxy's name passed the save-time check, and now resolves to loopback
    port = receiver.server_address[1]
    fake_dns(monkeypatch, {"proxy.example.test": ["127.0.0.1"], "hooks.example.test": ["93.184.216.34"]})
    proxy = f"http://proxy.example.test:{port}"
    # when
    with hookline(**{PRIVATE: False, "PROXY": ""}), pytest.raises(BlockedRequest, match="proxy.example.test"):
        session.post("http://hooks.example.test/in", proxies={"http": proxy}, timeout=5)
    # then
    assert receiver.requests == []


def test_an_endpoint_proxy_is_used_when_private_addresses_are_allowed(monkeypatch, receiver, session) -> None:
    # given
    proxy = f"http://127.0.0.1:{receiver.server_address[1]}"
    fake_dns(monkeypatch, {"hooks.example.test": ["93.184.216.34"]})
    # when
    with hookline(**{PRIVATE: True, "PROXY": ""}):
        response = session.post("http://hooks.example.test/in", proxies={"http": proxy}, timeout=5)
    # then: the request went to the proxy, in absolute form
    assert response.status_code == 204
    assert receiver.requests == [("POST", "http://hooks.example.test/in")]


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        ("socks5://proxy.example.com:1080", "Only http:// and https:// proxy URLs"),
        ("ftp://proxy.example.com", "Only http:// and https:// proxy URLs"),
        ("http://user:pw@proxy.example.com:3128", "cannot carry credentials"),
        ("http://proxy.example.com:3128/path", "without a path"),
        ("http://10.0.0.5:3128", "private address"),
        ("http://127.0.0.1:3128", "loopback"),
        ("http://169.254.169.254", "link-local"),
        ("http://localhost:3128", "local-only host name"),
    ],
)
def test_endpoint_proxy_urls_are_checked_like_endpoint_urls(proxy: str, why: str) -> None:
    with pytest.raises(UnsafeURL, match=why):
        check_proxy_url(proxy, allow_private=False, resolve=False)


def test_endpoint_proxy_urls_may_be_plain_http_even_when_https_is_required() -> None:
    # the proxy only carries a CONNECT tunnel for https:// targets: TLS is end to end anyway
    with hookline(REQUIRE_HTTPS=True):
        check_proxy_url("http://93.184.216.34:3128", allow_private=False, resolve=False)


def test_adapter_keeps_pool_settings() -> None:
    adapter = GuardedAdapter(pool_connections=3, pool_maxsize=7, max_retries=2)
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 7
    assert adapter.max_retries.total == 2
