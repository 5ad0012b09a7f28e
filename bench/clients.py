"""The raw client limits: how fast bare Python clients POST to the receiver, bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import requests

BODY = json.dumps(
    {"type": "invoice.paid", "timestamp": "2026-01-01T00:00:00Z", "data": {"invoice": 42, "amount": "9.90"}},
    separators=(",", ":"),
).encode()
HEADERS = {"content-type": "application/json", "webhook-id": "msg_raw", "user-agent": "bench"}


def one_session(url: str, count: int, max_seconds: float) -> float:
    """Requests/s of one requests.Session (keep-alive) in one thread."""
    with requests.Session() as session:
        session.post(url, data=BODY, headers=HEADERS, timeout=10).raise_for_status()  # connect first
        started, sent = time.perf_counter(), 0
        deadline = started + max_seconds
        while sent < count and time.perf_counter() < deadline:
            session.post(url, data=BODY, headers=HEADERS, timeout=10).raise_for_status()
            sent += 1
        return sent / (time.perf_counter() - started)


def threads(url: str, count: int, max_seconds: float, n_threads: int) -> float:
    """Requests/s of ``n_threads`` threads, one requests.Session each."""
    sessions = [requests.Session() for _ in range(n_threads)]
    for session in sessions:
        session.post(url, data=BODY, headers=HEADERS, timeout=10).raise_for_status()
    per_thread = count // n_threads
    done = [0] * n_threads
    barrier = threading.Barrier(n_threads + 1)

    def run(index: int) -> None:
        session = sessions[index]
        barrier.wait()
        deadline = time.perf_counter() + max_seconds
        while done[index] < per_thread and time.perf_counter() < deadline:
            session.post(url, data=BODY, headers=HEADERS, timeout=10).raise_for_status()
            done[index] += 1

    workers = [threading.Thread(target=run, args=(index,)) for index in range(n_threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.close()
    return sum(done) / elapsed


def asyncio_client(url: str, count: int, max_seconds: float, concurrency: int) -> float:
    """Requests/s of one aiohttp session with ``concurrency`` requests in flight."""
    return asyncio.run(_aiohttp_rate(url, count, max_seconds, concurrency))


async def _aiohttp_rate(url: str, count: int, max_seconds: float, concurrency: int) -> float:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        remaining = count
        done = 0

        async def run() -> None:
            nonlocal remaining, done
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                async with session.post(url, data=BODY, headers=HEADERS) as response:
                    await response.read()
                    response.raise_for_status()
                done += 1

        await asyncio.gather(*(_one(session, url) for _ in range(concurrency)))  # open the connections first
        started = time.perf_counter()
        deadline = started + max_seconds
        await asyncio.gather(*(run() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


async def _one(session, url: str) -> None:
    async with session.post(url, data=BODY, headers=HEADERS) as response:
        await response.read()


def load_generator(url: str, count: int, max_seconds: float, connections: int) -> float:
    """Requests/s of a minimal asyncio HTTP/1.1 client (keep-alive, one request in flight per
    connection): far lighter than aiohttp, so that it shows what the receiver itself sustains."""
    return asyncio.run(_generate(url, count, max_seconds, connections))


class _LoadConnection(asyncio.Protocol):
    def __init__(self, request: bytes, state: dict) -> None:
        self.request, self.state, self.buffer = request, state, bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.next()

    def next(self) -> None:
        state = self.state
        if state["sent"] >= state["count"] or time.perf_counter() > state["deadline"]:
            self.transport.close()
            return
        state["sent"] += 1
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0]) if b"content-length:" in head else 0
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        self.state["done"] += 1
        self.next()

    def connection_lost(self, exc) -> None:
        self.state["open"] -= 1
        if not self.state["open"] and not self.state["closed"].done():
            self.state["closed"].set_result(None)


async def _generate(url: str, count: int, max_seconds: float, connections: int) -> float:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    request = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nhost: {parts.netloc}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    state = {
        "sent": 0,
        "done": 0,
        "count": count,
        "deadline": started + max_seconds,
        "open": connections,
        "closed": loop.create_future(),
    }
    for _ in range(connections):
        await loop.create_connection(lambda: _LoadConnection(request, state), parts.hostname, parts.port)
    await asyncio.wait_for(state["closed"], timeout=max_seconds + 30)
    return state["done"] / (time.perf_counter() - started)
