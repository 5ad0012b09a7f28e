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
