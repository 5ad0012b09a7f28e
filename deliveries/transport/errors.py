"""Readable texts for failed exchanges: what a person reads in the admin, the API and logs (no class names)."""

from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

from urllib3.exceptions import NameResolutionError, NewConnectionError, ProtocolError, ProxyError, SSLError

# What an errno means for the one making the connection: "connection refused by host:port".
_ERRNO_TEXTS = {
    errno.ECONNREFUSED: "connection refused by {where}",
    errno.ECONNRESET: "connection reset by {where}",
    errno.ECONNABORTED: "connection aborted by {where}",
    errno.EHOSTUNREACH: "no route to host {where}",
    errno.ENETUNREACH: "network unreachable for {where}",
    errno.EPIPE: "{where} closed the connection while the request was sent",
    errno.ETIMEDOUT: "connection to {where} timed out",
}
_ERRNO_IN_TEXT = re.compile(r"\[Errno (-?\d+)\]")


def where(url: str) -> str:
    """``host:port`` of a URL, the port made explicit (``hooks.example:443``)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def raw(exc: BaseException) -> str:
    """The exception as a developer wants it (class and message), for the attempt's details."""
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:2000]


def describe(exc: BaseException, url: str, proxy: str = "") -> str:
    """A short sentence for a connection-level failure, naming the peer (the proxy when there is one)."""
    peer = f"the proxy {where(proxy)}" if proxy else where(url)
    chain = list(_chain(exc))
    if any(isinstance(one, (NameResolutionError, socket.gaierror)) for one in chain):
        host = urlsplit(proxy or url).hostname or "?"
        return f"could not resolve the host name {host}" + (" (the proxy)" if proxy else "")
    tls = next((one for one in chain if isinstance(one, (SSLError, ssl.SSLError))), None)
    if tls is not None:
        reason = getattr(tls, "reason", None) or _last_words(tls)
        return f"TLS handshake with {peer} failed: {reason}"
    number = _errno(chain)
    if number in _ERRNO_TEXTS:
        return _ERRNO_TEXTS[number].format(where=peer)
    if any(isinstance(one, ProtocolError) for one in chain) or "RemoteDisconnected" in str(exc):
        return f"{peer} closed the connection without answering"
    if isinstance(exc, ProxyError):
        return f"the proxy {where(proxy)} failed: {_last_words(exc)}" if proxy else f"proxy error: {_last_words(exc)}"
    if isinstance(exc, NewConnectionError):
        return f"could not connect to {peer}: {_last_words(exc)}"
    return f"connection to {peer} failed: {_last_words(exc)}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        one = pending.pop()
        if one is None or id(one) in seen:
            continue
        seen.add(id(one))
        yield one
        reason = getattr(one, "reason", None)  # urllib3's MaxRetryError/ProxyError keep the cause here
        pending += [one.__cause__, one.__context__, reason if isinstance(reason, BaseException) else None]
        pending += [arg for arg in getattr(one, "args", ()) if isinstance(arg, BaseException)]


def _errno(chain: list[BaseException]) -> int | None:
    for one in chain:
        if isinstance(one, OSError) and one.errno:
            return one.errno
    for one in chain:  # urllib3 often keeps only the text: "... [Errno 111] Connection refused"
        found = _ERRNO_IN_TEXT.search(str(one))
        if found:
            return int(found.group(1))
    return None


def _last_words(exc: BaseException) -> str:
    """The message without the repr of urllib3's connection objects that prefixes it."""
    text = str(exc)
    text = re.sub(r"<?[\w.]*(?:Connection|Pool)\w*\(host='[^']*', port=\d+\)>?:?\s*", "", text)
    text = re.sub(r"\(Caused by \w+\((.*)\)\)$", r"\1", text)
    return text.strip(" :'\"") or type(exc).__name__
