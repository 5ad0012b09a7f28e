"""Tests for hooks.urlguard: the URL, proxy and address checks, and credential splitting and masking.

The send-time guard (connect-time address checks, DNS rebinding, proxies) is tested through the
transport, in tests/deliveries/transport/test_transport_guard.py.
"""

from __future__ import annotations

import re

import pytest

from hooks.urlguard import (
    UnsafeURL,
    check_address,
    check_proxy_url,
    check_url,
    mask_url,
    split_credentials,
)
from tests.support.dns import fake_dns
from tests.support.overrides import hookline

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
    with hookline(**{PRIVATE: False}), pytest.raises(UnsafeURL):
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
    with pytest.raises(UnsafeURL, match=re.escape("resolves to 10.1.2.3")):
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


def test_check_address_names_its_subject() -> None:
    with pytest.raises(UnsafeURL, match=r"^Refused: hooks.example.com \(resolves to 10.0.0.1\) is a private address"):
        check_address("10.0.0.1", subject="hooks.example.com (resolves to 10.0.0.1)", allow_private=False)


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


# --- endpoint proxy URLs -------------------------------------------------------------------------------


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
