"""Producers of the single-emit scenarios: N spawned processes (like web workers), or one paced loop.

Each transaction is what a view does: `with transaction.atomic():` one domain row, and for
Hookline one `events.emit("order.created", ...)` (the naive peer's post_save signal enqueues its
task on commit instead). Counts are fixed and every loop also stops after `max_seconds`.
"""

from __future__ import annotations

import multiprocessing
import time

PAYLOAD = {"order": 42, "amount": "9.90", "customer": "cus_0123456789"}


def transact(kind: str, org, n: int) -> None:
    """One producer transaction: ``kind`` is "hookline" (domain row + emit) or "peer" (its order row)."""
    from django.db import transaction

    with transaction.atomic():
        if kind == "peer":
            from bench.peer import signals  # noqa: F401  (its post_save receiver enqueues the webhook)
            from bench.peer.models import PeerOrder

            PeerOrder.objects.create(payload={**PAYLOAD, "n": n})
        else:
            import events
            from bench import environment
            from bench.plain import PlainRow

            PlainRow.objects.create(organisation=org, payload={**PAYLOAD, "n": n})
            events.emit(environment.ORDER_TYPE, {**PAYLOAD, "n": n}, organisation=org)


def _organisation(kind: str):
    if kind == "peer":
        return None
    from events.models import Organisation

    return Organisation.objects.get(slug="bench")


def _warm(kind: str, org) -> None:
    """Imports and a connection before the clock starts, without emitting anything."""
    from django.db import transaction

    import events  # noqa: F401
    from bench.peer.models import PeerOrder
    from bench.plain import PlainRow

    with transaction.atomic():
        (PeerOrder if kind == "peer" else PlainRow).objects.exists()


def _child(kind: str, first: int, count: int, max_seconds: float, ready, go, results) -> None:
    import django

    django.setup()
    org = _organisation(kind)
    _warm(kind, org)
    ready.put(first)
    if not go.wait(120):
        return
    started = time.time()
    deadline = time.monotonic() + max_seconds
    done = 0
    for n in range(first, first + count):
        if time.monotonic() > deadline:
            break
        transact(kind, org, n)
        done += 1
    results.put({"first": started, "last": time.time(), "count": done})


def run_processes(kind: str, total: int, processes: int, max_seconds: float = 120.0) -> dict:
    """``total`` transactions from ``processes`` spawned producers started together; their emit rate."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    share = [total // processes + (1 if index < total % processes else 0) for index in range(processes)]
    children = [
        context.Process(
            target=_child, args=(kind, sum(share[:index]), share[index], max_seconds, ready, go, results), daemon=True
        )
        for index in range(processes)
    ]
    for child in children:
        child.start()
    try:
        _await_ready(ready, children, timeout=120)
        go.set()
        done = [results.get(timeout=max_seconds + 60) for _ in children]
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
    first, last = min(item["first"] for item in done), max(item["last"] for item in done)
    count = sum(item["count"] for item in done)
    return {"first": first, "last": last, "count": count, "emit_rate": count / max(last - first, 1e-6)}


def _await_ready(ready, children, timeout: float) -> None:
    """Every child has set up Django and warmed its connection; fail fast if one died."""
    import queue

    deadline, waiting = time.monotonic() + timeout, len(children)
    while waiting:
        try:
            ready.get(timeout=0.5)
            waiting -= 1
        except queue.Empty:
            dead = [child.exitcode for child in children if not child.is_alive()]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"producers not ready (exit codes of dead ones: {dead})") from None


def run_paced(kind: str, org, rate: float, seconds: float) -> dict:
    """One producer in this process at a fixed ``rate`` transactions per second for ``seconds``."""
    count = int(rate * seconds)
    started = time.time()
    base = time.monotonic()
    for n in range(count):
        delay = base + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() - base > seconds * 2:  # a stalled database: stop, and say so in the count
            break
        transact(kind, org, n)
    return {"first": started, "last": time.time(), "count": n + 1 if count else 0}
