"""The send-time URL guard: checks before each POST, connections only to checked addresses, their keep-alive pools."""

from __future__ import annotations

import os
import socket
import ssl
import sys
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.poolmanager import PoolManager, proxy_from_url
from urllib3.util.connection import allowed_gai_family, create_connection
from urllib3.util.ssl_ import create_urllib3_context

from hookline.conf import hookline_settings
from hooks.urlguard import UnsafeURL, check_address, check_proxy_url, check_url

from .deadline import with_deadline

# Hosts whose pools are kept (least recently used ones are closed beyond this).
_POOLED_HOSTS = 64


class _GuardedConnectionMixin:
    """Resolve, check every address, then connect only to checked ones (defeats DNS rebinding)."""

    peer_ip: str | None = None  # the address the socket is connected to

    def _new_conn(self: Any) -> socket.socket:
        dns_host = self._dns_host.strip("[]").rstrip(".")
        try:
            infos = socket.getaddrinfo(dns_host, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not hookline_settings.ALLOW_PRIVATE_ADDRESSES:  # read per connection: tests toggle it
            for address in addresses:  # all before any connect: one bad answer refuses the host
                subject = address if address == dns_host else f"{self.host} (resolves to {address})"
                check_address(address, subject=subject, allow_private=False)
        # Same exceptions as urllib3's own _new_conn, so its error handling still applies.
        error: Exception = NewConnectionError(self, f"No address to connect to for {self.host}")
        for address in addresses:  # like create_connection: the first reachable address wins
            try:
                sock = create_connection((address, self.port), self.timeout, self.source_address, self.socket_options)
            except TimeoutError:
                error = ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                )
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
            else:
                self.peer_ip = address
                sys.audit("http.client.connect", self, self.host, self.port)
                return sock
        raise error


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedPoolMixin:
    """Re-check a kept-alive connection's peer, so turning ALLOW_PRIVATE_ADDRESSES off takes effect."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        peer = getattr(conn, "peer_ip", None)
        if peer and conn.sock is not None and not hookline_settings.ALLOW_PRIVATE_ADDRESSES:
            try:
                check_address(peer, allow_private=False)
            except UnsafeURL:
                conn.close()  # so the reconnect re-resolves and refuses with the reason
        return conn


class _GuardedHTTPPool(_GuardedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_GuardedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


# Every pool can be cut at the total deadline. The operator's own proxy is trusted (it may sit on
# a private network), so its connections are plain; targets and endpoint proxies are checked.
_CHECKED = {"http": with_deadline(_GuardedHTTPPool), "https": with_deadline(_GuardedHTTPSPool)}
_TRUSTED = {"http": with_deadline(HTTPConnectionPool), "https": with_deadline(HTTPSConnectionPool)}


class GuardedPools:
    """A process's keep-alive pools: direct ones, and one manager per proxy, shared by its sender threads."""

    def __init__(self, *, hosts: int, per_host: int) -> None:
        self._pool_kw: dict[str, Any] = {"num_pools": hosts, "maxsize": per_host, "block": False}
        context = tls_context()
        if context is not None:
            self._pool_kw["ssl_context"] = context
        self.poolmanager = PoolManager(**self._pool_kw)
        self.poolmanager.pool_classes_by_scheme = dict(_CHECKED)
        self._proxy_managers: dict[tuple[str, bool], PoolManager] = {}
        self._lock = threading.Lock()

    def proxy_manager_for(self, proxy: str) -> PoolManager:
        """The manager for ``proxy``; trusted and checked managers never share pools, even for one URL."""
        key = (proxy, is_trusted_proxy(proxy))
        manager = self._proxy_managers.get(key)
        if manager is None:
            with self._lock:
                manager = self._proxy_managers.get(key)
                if manager is None:
                    manager = proxy_from_url(proxy, proxy_headers=_proxy_auth(proxy), **self._pool_kw)
                    manager.pool_classes_by_scheme = dict(_TRUSTED if key[1] else _CHECKED)
                    self._proxy_managers[key] = manager
        return manager

    def close(self) -> None:
        self.poolmanager.clear()
        for manager in self._proxy_managers.values():
            manager.clear()


def tls_context() -> ssl.SSLContext | None:
    """The system's CAs plus HOOKLINE['EXTRA_CA_BUNDLE'] (a private CA); None: urllib3's default, the system's.

    Verification stays on either way (certificate and host name): a private CA is trusted by adding it,
    never by turning checks off.
    """
    bundle = hookline_settings.EXTRA_CA_BUNDLE
    if not bundle:
        return None
    context = create_urllib3_context()
    context.load_default_certs()  # urllib3 loads them only when it builds the context itself
    context.load_verify_locations(cafile=bundle)
    return context


_pools: tuple[int, GuardedPools] | None = None


def pools() -> GuardedPools:
    """This process's guarded connection pools (urllib3 pools are thread-safe; they do not survive a fork)."""
    global _pools
    if _pools is None or _pools[0] != os.getpid():
        _pools = (os.getpid(), GuardedPools(hosts=_POOLED_HOSTS, per_host=hookline_settings.SEND_CONCURRENCY))
    return _pools[1]


def guarded_post(url: str, *, proxy: str, **urlopen_kw: Any) -> urllib3.BaseHTTPResponse:
    """POST through this process's pools after the send-time checks; raises UnsafeURL with the reason.

    Without a proxy, the address actually connected to is checked at connect time. Through a proxy,
    the proxy resolves the target itself: the target is resolved and checked here instead (a rebind
    between this lookup and the proxy's is out of our reach), and an endpoint's own proxy is checked
    like a target (the operator's HOOKLINE['PROXY'] is trusted).
    """
    check_url(url, resolve=bool(proxy))
    if not proxy:
        return pools().poolmanager.urlopen("POST", url, **urlopen_kw)
    if is_trusted_proxy(proxy):
        return pools().proxy_manager_for(proxy).urlopen("POST", url, **urlopen_kw)
    try:
        check_proxy_url(proxy, resolve=False)  # its address is checked at connect time
        return pools().proxy_manager_for(proxy).urlopen("POST", url, **urlopen_kw)
    except UnsafeURL as exc:  # the target passed above: this is the proxy
        raise UnsafeURL(f"Refused (the endpoint's proxy): {str(exc).removeprefix('Refused: ')}") from exc


def is_trusted_proxy(proxy: str) -> bool:
    """Whether ``proxy`` is the operator's HOOKLINE['PROXY'] (read per request: tests change it)."""
    return bool(hookline_settings.PROXY) and proxy == hookline_settings.PROXY


def _proxy_auth(proxy: str) -> dict[str, str]:
    """A Proxy-Authorization header from the proxy URL's credentials, as requests builds it."""
    parts = urlsplit(proxy)
    if not parts.username or parts.password is None:
        return {}
    return urllib3.util.make_headers(proxy_basic_auth=f"{unquote(parts.username)}:{unquote(parts.password)}")
