"""A real forward proxy on 127.0.0.1 (absolute-URI forwarding and CONNECT tunnels) that records what passed."""

from __future__ import annotations

import http.client
import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers that concern one hop only (RFC 9110 7.6.1): a proxy consumes them instead of forwarding them.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
_TUNNEL_IDLE = 10.0  # seconds a tunnel may sit idle before the proxy closes it


@dataclass(frozen=True)
class Passed:
    method: str  # "POST" for a forwarded request, "CONNECT" for a tunnel
    target: str  # the absolute URI, or host:port of a tunnel
    headers: dict[str, str]


class ForwardProxy:
    """``with ForwardProxy() as proxy: ...; proxy.url; proxy.passed``

    It only ever connects to loopback: ``hosts`` maps extra names a test uses (``{"hooks.example.test":
    "127.0.0.1"}``); a request for any other host is refused with 403 and listed in ``refused``.
    """

    def __init__(self, hosts: dict[str, str] | None = None) -> None:
        self.passed: list[Passed] = []
        self.refused: list[str] = []
        self._hosts = {"127.0.0.1": "127.0.0.1", **(hosts or {})}
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self, target: str) -> None:
                with proxy._lock:
                    proxy.passed.append(Passed(self.command, target, {k.lower(): v for k, v in self.headers.items()}))

            def _refuse(self, target: str, why: str) -> None:
                with proxy._lock:
                    proxy.refused.append(target)
                body = why.encode()
                self.send_response(403)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_CONNECT(self) -> None:
                host, _, port = self.path.rpartition(":")
                address = proxy._hosts.get(host.strip("[]"))
                if address is None or not port.isdigit():
                    return self._refuse(self.path, "this test proxy only tunnels to loopback")
                self._record(self.path)
                try:
                    upstream = socket.create_connection((address, int(port)), timeout=5)
                except OSError as exc:
                    self.send_error(502, f"cannot reach {self.path}: {exc}")
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                _pipe(self.connection, upstream)
                self.close_connection = True

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))  # even if refused: keep-alive
                parts = urlsplit(self.path)
                address = proxy._hosts.get(parts.hostname or "")
                if parts.scheme != "http" or address is None:
                    return self._refuse(self.path, "this test proxy only forwards http:// to loopback")
                self._record(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(address, parts.port or 80, timeout=10)
                try:
                    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
                    upstream.request(self.command, path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                except OSError as exc:
                    self.send_error(502, f"cannot reach {self.path}: {exc}")
                    return
                finally:
                    upstream.close()
                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_PUT = _forward

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def forwarded(self, method: str = "POST") -> list[Passed]:
        with self._lock:
            return [entry for entry in self.passed if entry.method == method]


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes or the tunnel idles out."""
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, _TUNNEL_IDLE)
            if broken or not readable:
                return
            for source in readable:
                data = source.recv(64 * 1024)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        return  # either side reset the connection: the tunnel is over
    finally:
        upstream.close()
