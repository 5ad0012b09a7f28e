"""SSRF policy: which URLs and addresses Hookline may send to, and URLs with their credentials split off or masked."""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import quote, unquote, urlsplit

import idna
from django.core.exceptions import ValidationError

from hookline.conf import hookline_settings

IPAddress = IPv4Address | IPv6Address

_HINT = "set HOOKLINE['ALLOW_PRIVATE_ADDRESSES'] for development"
MASK = "***"  # what a password looks like when a URL is displayed

# Checked before ipaddress' flags: the message names the range, and Python versions disagree
# about several of these (3.11 calls 100.64/10, 239/8 and fec0::/10 "global", for one).
_SPECIAL: list[tuple[IPv4Network | IPv6Network, str]] = [
    (ipaddress.ip_network(net), label)
    for label, nets in {
        "the unspecified address": ["0.0.0.0/32", "::/128"],
        "a 'this network' address": ["0.0.0.0/8"],
        "a loopback address": ["127.0.0.0/8", "::1/128"],
        "a private address": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
        "a shared (carrier-grade NAT) address": ["100.64.0.0/10"],
        "a link-local address": ["169.254.0.0/16", "fe80::/10"],
        "a site-local address": ["fec0::/10"],
        "an IETF protocol address": ["192.0.0.0/24", "2001::/23"],
        "a documentation address": ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"],
        "a benchmarking address": ["198.18.0.0/15", "2001:2::/48"],
        "a multicast address": ["224.0.0.0/4", "ff00::/8"],
        "the broadcast address": ["255.255.255.255/32"],
        "a reserved address": ["240.0.0.0/4", "100::/64", "64:ff9b:1::/48"],
    }.items()
    for net in nets
]
_NAT64 = IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = IPv6Network("::/96")

# Names that only ever mean "this machine" or "this site's network" (RFC 6761, 6762, 8375).
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_LOCAL_SUFFIXES = (".localhost", ".localdomain", ".local", ".internal", ".home.arpa")

_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")


class UnsafeURL(ValueError):
    """A URL or address Hookline refuses to send to; the message says why."""


def check_url(
    url: str, *, allow_private: bool | None = None, require_https: bool | None = None, resolve: bool = True
) -> None:
    """Raise UnsafeURL unless ``url`` is http(s) and its host is, and resolves to, public addresses only."""
    if allow_private is None:
        allow_private = hookline_settings.ALLOW_PRIVATE_ADDRESSES
    if require_https is None:
        require_https = hookline_settings.REQUIRE_HTTPS

    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise UnsafeURL("Refused: the URL contains whitespace or control characters")
    # urllib3 ends the host at a backslash, urlsplit does not: refuse rather than guess who is right.
    if "\\" in url:
        raise UnsafeURL("Refused: the URL contains a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Refused: invalid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL("Only http:// and https:// URLs are allowed")
    if require_https and parts.scheme.lower() != "https":
        raise UnsafeURL("https:// is required (HOOKLINE['REQUIRE_HTTPS'])")
    if port == 0:
        raise UnsafeURL("Refused: port 0 is not a valid port")

    host = _normalise_host(parts.hostname or "")
    ip = _parse_ip(host)
    if ip is not None:
        if not allow_private:
            _check_ip(ip, host if str(ip) == host else f"{host} ({ip})")
        return

    if not allow_private:
        if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
            raise _refused(host, "a local-only host name")
        if "." not in host:
            raise _refused(host, "a single-label (intranet) host name")
    if resolve:
        for address in _resolve(host, port or (443 if parts.scheme.lower() == "https" else 80)):
            if not allow_private:
                _check_ip(_parse_ip(address), f"{host} (resolves to {address})")


def validate_url(url: str) -> None:
    """check_url as a Django validator: the model field's (so ``full_clean()`` and any ModelForm refuse too) and the
    services'."""
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise ValidationError(str(exc), code="unsafe_url") from None


def check_proxy_url(url: str, *, allow_private: bool | None = None, resolve: bool = True) -> None:
    """Raise UnsafeURL unless ``url`` may be an endpoint's own proxy: http(s), no credentials, a public host.

    A tenant chooses its endpoint's proxy, so the proxy is an SSRF target like the endpoint's URL
    (an internal host reached through a "proxy" at 10.0.0.5:8080 is still an internal host).
    The operator's HOOKLINE['PROXY'] is trusted instead and may sit on a private network.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeURL(f"Refused: invalid proxy URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL("Only http:// and https:// proxy URLs are allowed")
    if "@" in parts.netloc:
        raise UnsafeURL(
            "Refused: an endpoint's proxy URL cannot carry credentials (they would be stored "
            "in clear); put an authenticated proxy in HOOKLINE['PROXY']"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UnsafeURL("Refused: a proxy URL is scheme://host:port, without a path")
    check_url(url, allow_private=allow_private, require_https=False, resolve=resolve)


def check_address(ip: str, *, subject: str = "", allow_private: bool | None = None) -> None:
    """Raise UnsafeURL unless ``ip`` (an already resolved address) is public; ``subject`` names it in the message.

    The transport calls this with the addresses it is about to connect to (DNS rebinding), and again
    for the peer of a kept-alive connection.
    """
    parsed = _parse_ip(ip.strip("[]").lower())
    if parsed is None:
        raise UnsafeURL(f"Refused: {ip!r} is not an IP address")
    if allow_private is None:
        allow_private = hookline_settings.ALLOW_PRIVATE_ADDRESSES
    if not allow_private:
        _check_ip(parsed, subject or ip)


def split_credentials(url: str) -> tuple[str, str, str]:
    """Return (url without userinfo, username, password), user and password percent-decoded."""
    prefix, netloc, rest = _split_authority(url)
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return url, "", ""
    username, _, password = userinfo.partition(":")
    return prefix + hostport + rest, unquote(username), unquote(password)


def mask_url(url: str, username: str = "") -> str:
    """Return ``url`` fit for display: any credentials shown as ``user:***@``."""
    bare, embedded_user, _ = split_credentials(url)
    username = username or embedded_user
    if not username:
        return bare
    prefix, hostport, rest = _split_authority(bare)
    return f"{prefix}{quote(username, safe='')}:{MASK}@{hostport}{rest}"


# --- address and host helpers ----------------------------------------------------------------


def _refused(subject: str, problem: str) -> UnsafeURL:
    return UnsafeURL(f"Refused: {subject} is {problem} ({_HINT})")


def _check_ip(ip: IPAddress | None, subject: str) -> None:
    problem = "not an IP address" if ip is None else _problem(ip)
    if problem:
        raise _refused(subject, problem)


def _problem(ip: IPAddress) -> str | None:
    """Describe why ``ip`` is not a public unicast address, or return None if it is."""
    if isinstance(ip, IPv6Address):
        # Addresses that carry an IPv4 address: the embedded one must be public too.
        translated = ip.ipv4_mapped or (IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if translated is not None:  # the packet really goes to this IPv4 address
            inner = _problem(translated)
            return inner and f"an IPv6 form of {translated}, {inner}"
        embedded = [ip.sixtofour, *(ip.teredo or ())]
        if ip in _V4_COMPATIBLE and int(ip) > 1:
            embedded.append(IPv4Address(int(ip)))
        for v4 in filter(None, embedded):
            if inner := _problem(v4):
                return f"an address embedding {v4}, {inner}"
    for network, label in _SPECIAL:
        if network.version == ip.version and ip in network:
            return label
    # Whatever newer Python versions learn about the IANA registries catches the rest.
    if not ip.is_global or ip.is_reserved or ip.is_multicast or ip.is_private:
        return "a non-public address"
    return None


def _parse_ip(host: str) -> IPAddress | None:
    """Parse an IP literal in any spelling getaddrinfo() accepts; None for a host name."""
    if ":" in host:
        try:
            return IPv6Address(host.partition("%")[0])  # a zone id does not change the address
        except ValueError:
            return None
    return _parse_legacy_ipv4(host)


def _parse_legacy_ipv4(host: str) -> IPv4Address | None:
    """inet_aton() spellings: 1-4 dot-separated parts, decimal, 0x hex or 0-prefixed octal."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    try:
        numbers = [int(p, 16 if p.startswith("0x") else 8 if p.startswith("0") else 10) for p in parts]
    except ValueError:  # "0x" or "08"
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value << 8 | n
    return IPv4Address(value << 8 * (4 - len(head)) | last)


def _normalise_host(host: str) -> str:
    """Lowercase, IDNA-encode (as requests does) and strip trailing dots; refuse malformed names."""
    host = host.rstrip(".")
    if not host:
        raise UnsafeURL("Refused: the URL has no host")
    if ":" in host:  # urlsplit only yields a colon for a bracketed IPv6 literal
        if _parse_ip(host) is None:
            raise UnsafeURL(f"Refused: {host} is not a valid IPv6 address")
        return host
    if not host.isascii():
        try:
            # UTS 46 maps fullwidth digits and dots to ASCII, so "１２７.０.０.１" becomes 127.0.0.1.
            host = idna.encode(host, uts46=True).decode("ascii").rstrip(".")
        except (idna.IDNAError, UnicodeError) as exc:
            raise UnsafeURL(f"Refused: {host!r} is not a valid internationalised host name ({exc})") from None
    host = host.lower()
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURL(f"Refused: {host!r} is not a valid host name")
    try:
        for label in filter(lambda label: label.startswith("xn--"), labels):
            idna.decode(label)
    except (idna.IDNAError, UnicodeError) as exc:
        raise UnsafeURL(f"Refused: {host} is not valid IDNA ({exc})") from None
    # A name ending in a number is an IPv4 address to browsers and resolvers: it must parse as one.
    if _NUMBER.fullmatch(labels[-1]) and _parse_legacy_ipv4(host) is None:
        raise UnsafeURL(f"Refused: {host} looks like an IP address but is not a valid one")
    return host


def _resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in resolver order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeURL(f"Refused: {host} cannot be resolved")
    return addresses


def _split_authority(url: str) -> tuple[str, str, str]:
    """Split ``url`` verbatim into ("scheme://", authority, rest); no "//" means no authority."""
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)(.*)", url, re.DOTALL)
    return match.groups() if match else ("", "", url)  # type: ignore[return-value]
