"""A real HTTP receiver on 127.0.0.1 that records every request and answers as the test tells it."""
from __future__ import annotations

import json
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    client_port: int = 0

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    delay: float = 0.0


# A behaviour gets the request and how many requests this path has had (1 for the first).
Behaviour = Callable[[Received, int], Reply]


def always(status: int = 200, **kwargs) -> Behaviour:
    return lambda request, count: Reply(status, **kwargs)


def sequence(*statuses: int) -> Behaviour:
    """Answer the n-th request of a path with the n-th status (the last one repeats)."""
    return lambda request, count: Reply(statuses[min(count, len(statuses)) - 1])


class Receiver:
    """``with Receiver() as r: r.on("/a", sequence(500, 200)); url = r.url("/a")``

    With ``tls`` (an SSL server context, see tests.support.certificates) it serves https:// instead.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self._behaviours: dict[str, Behaviour] = {}
        self._counts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length), time.time(),
                                   self.client_address[1])
                with receiver._lock:
                    receiver.requests.append(request)
                    receiver._counts[self.path] += 1
                    count = receiver._counts[self.path]
                reply = receiver._behaviours.get(self.path, always(200))(request, count)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            # The handshake happens on the handler's first read, not in the accepting thread.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def on(self, path: str, behaviour: Behaviour) -> str:
        self._behaviours[path] = behaviour
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [request for request in self.requests if request.path == path]
