"""The benchmark's receiver: a raw asyncio HTTP/1.1 server in its own process, recording arrivals.

A path starting with ``/slow/`` is answered after ``--delay`` seconds (the 200 ms receiver),
``/delay/<seconds>/...`` after that many seconds (a slow neighbour), ``/hang/...`` never (the client's
read timeout ends it); any other path at once. ``GET /_stats`` returns the count, ``GET /_arrivals`` every recorded
(webhook-id, path, arrival time), ``POST /_reset`` forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'
_MAX_HEAD = 64 * 1024


class _State:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0
        self.arrivals: list[tuple[str, str, float]] = []
        self.started = time.time()


def _delay_of(path: str, slow_delay: float) -> float:
    """Seconds before answering ``path``: ``/slow/`` the receiver's delay, ``/delay/<s>/`` its own."""
    if path.startswith("/slow/"):
        return slow_delay
    if path.startswith("/delay/"):
        try:
            return float(path.split("/")[2])
        except (IndexError, ValueError):
            return 0.0
    return 0.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection; answers requests in order, parses just enough HTTP/1.1."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.pending = 0  # delayed answers not yet written (keeps the order on this connection)
        self.queued: list[bytes] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEAD:
                    self.transport.close()
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            method, path = lines[0].split(" ", 2)[:2]
            self.handle(method, path, headers)

    def handle(self, method: str, path: str, headers: dict[str, str]) -> None:
        state = self.state
        if path.startswith("/_"):
            self.answer(self.control(method, path), 0.0)
            return
        state.count += 1
        webhook_id = headers.get("webhook-id")
        if webhook_id:
            state.arrivals.append((webhook_id, path, time.time()))
        if path.startswith("/hang/"):
            return  # never answered: the sender's read timeout closes the connection
        self.answer(OK, _delay_of(path, state.delay))

    def control(self, method: str, path: str) -> bytes:
        state = self.state
        if path == "/_reset":
            state.count, state.arrivals, state.started = 0, [], time.time()
            body = b"{}"
        elif path == "/_arrivals":
            body = json.dumps(state.arrivals).encode()
        else:
            body = json.dumps({"count": state.count, "arrivals": len(state.arrivals), "pid": os.getpid()}).encode()
        return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    def answer(self, reply: bytes, delay: float) -> None:
        if delay <= 0 and not self.pending:
            self.transport.write(reply)
            return
        self.pending += 1
        slot = len(self.queued)
        self.queued.append(b"")

        def release() -> None:
            self.queued[slot] = reply
            self.pending -= 1
            if not self.pending:  # every earlier answer is ready: write them in order
                if not self.transport.is_closing():
                    self.transport.write(b"".join(self.queued))
                self.queued = []

        asyncio.get_running_loop().call_later(delay, release)

    def connection_lost(self, exc) -> None:
        self.transport = None


async def _serve(port: int, delay: float) -> None:
    loop = asyncio.get_running_loop()
    state = _State(delay)
    server = await loop.create_server(lambda: _Connection(state), "127.0.0.1", port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stop.wait()


class ReceiverProcess:
    """Starts the receiver in its own process; ``url(path)``, ``stats()``, ``arrivals()``, ``reset()``."""

    def __init__(self, delay: float = 0.2) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", "0", "--delay", str(delay)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening"):
            self.stop()
            raise RuntimeError(f"The receiver did not start: {line!r}")
        self.port = int(line.split()[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _get(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.url(path), method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        return self._get("/_stats")

    def arrivals(self) -> list[tuple[str, str, float]]:
        return [tuple(pair) for pair in self._get("/_arrivals")]

    def reset(self) -> None:
        self._get("/_reset", "POST")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> ReceiverProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before answering /slow/ paths")
    arguments = parser.parse_args()
    asyncio.run(_serve(arguments.port, arguments.delay))
