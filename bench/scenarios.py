"""The measured scenarios: raw clients, emit cost, end-to-end delivery, slow receiver, wide fan-out."""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass

from . import clients, environment

PAYLOAD = {"invoice": 42, "amount": "9.90", "customer": "cus_0123456789"}


@dataclass(frozen=True)
class Limits:
    """How long any one measurement may take, and how much it may send."""

    raw_count: int = 5000
    raw_seconds: float = 4.0
    emit_count: int = 2000
    e2e_timeout: float = 120.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- 1. raw client limits --------------------------------------------------------------------


def raw_limits(receiver, limits: Limits, threads: int) -> dict[str, float]:
    """The bare clients' rates; the asyncio runs also measure what one receiver CPU-second absorbs."""
    url = receiver.url("/raw/")
    result = {
        "raw_session": clients.one_session(url, limits.raw_count, limits.raw_seconds),
        "raw_threads": clients.threads(url, limits.raw_count, limits.raw_seconds, threads),
    }
    result["raw_asyncio"] = clients.asyncio_client(url, limits.raw_count * 3, limits.raw_seconds, 100)
    # What the receiver sustains, shown by a load generator lighter than any real client; and, since
    # it is one single-threaded process, what one core of it absorbs (requests per CPU-second).
    for name, path, connections in (("receiver", "/raw/", 200), ("receiver_slow", "/slow/raw/", 2000)):
        before_cpu, before_count = environment.cpu_seconds([receiver.pid]), receiver.stats()["count"]
        result[name] = clients.load_generator(
            receiver.url(path), limits.raw_count * 20, limits.raw_seconds, connections
        )
        handled = receiver.stats()["count"] - before_count
        result[f"{name}_per_core"] = handled / max(environment.cpu_seconds([receiver.pid]) - before_cpu, 0.01)
    return result


# --- 2. emit cost ----------------------------------------------------------------------------


def emit_cost(org, limits: Limits) -> dict[str, float]:
    """µs per emit() next to the plain ORM create() of a same-size JSON row it rides on.

    Like a request handler: each transaction writes a domain row and emits an event, in
    alternating order (so neither always pays the transaction's BEGIN, nor always follows the
    previous commit's enqueue); every third transaction only writes the row, for the plain commit.
    """
    from django.db import transaction

    import events

    from .plain import PlainRow, ensure_table

    ensure_table()
    timings: dict[str, list[float]] = {
        "emit": [],
        "create": [],
        "commit_emit": [],
        "commit_plain": [],
        "txn_emit": [],
        "txn_plain": [],
    }

    def create(index: int) -> None:
        PlainRow.objects.create(organisation=org, payload={**PAYLOAD, "n": index})

    def emit(index: int) -> None:
        events.emit(environment.EVENT_TYPE, {**PAYLOAD, "n": index}, organisation=org)

    for index in range(limits.emit_count * 3 // 2):
        pattern = (
            [(create, "create"), (emit, "emit")][:: 1 if index % 3 == 0 else -1] if index % 3 < 2 else [(create, None)]
        )
        begun = time.perf_counter()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            for call, name in pattern:
                started = time.perf_counter()
                call(index)
                if name:
                    timings[name].append((time.perf_counter() - started) * 1e6)
        except BaseException:
            atomic.__exit__(*sys.exc_info())
            raise
        started = time.perf_counter()
        atomic.__exit__(None, None, None)  # commit, then the on-commit enqueue of the fan-out
        ended = time.perf_counter()
        timings["commit_emit" if len(pattern) == 2 else "commit_plain"].append((ended - started) * 1e6)
        # The whole transaction, commit and on-commit work included: what a view waits for.
        timings["txn_emit" if len(pattern) == 2 else "txn_plain"].append((ended - begun) * 1e6)
    batch = 100
    per_event = []
    for _chunk in range(max(1, limits.emit_count // batch // 2)):
        started = time.perf_counter()
        with transaction.atomic():
            events.emit_many([(environment.EVENT_TYPE, {**PAYLOAD, "n": index}, org) for index in range(batch)])
        per_event.append((time.perf_counter() - started) * 1e6 / batch)
    result = {
        "emit_p50": percentile(timings["emit"], 0.5),
        "emit_p99": percentile(timings["emit"], 0.99),
        "create_p50": percentile(timings["create"], 0.5),
        "create_p99": percentile(timings["create"], 0.99),
        "commit_emit_p50": percentile(timings["commit_emit"], 0.5),
        "commit_plain_p50": percentile(timings["commit_plain"], 0.5),
        "emit_many_per_event": statistics.median(per_event),
        "txn_emit_p50": percentile(timings["txn_emit"], 0.5),
        "txn_plain_p50": percentile(timings["txn_plain"], 0.5),
    }
    result["txn_ratio"] = result["txn_emit_p50"] / result["txn_plain_p50"]
    result["emit_ratio"] = result["emit_p50"] / result["create_p50"]
    return result


# --- 3, 4. end to end ------------------------------------------------------------------------


def end_to_end(
    receiver,
    org,
    *,
    events_count: int,
    endpoints: int,
    path: str,
    limits: Limits,
    worker_pids: list[int],
    emit_batch: int = 100,
) -> dict[str, float]:
    """Emit ``events_count`` events to ``endpoints`` endpoints, ``emit_batch`` per transaction
    (emit_many; 1 means one emit() per transaction); until every delivery is received and logged."""
    from django.db import transaction
    from django.db.models import Max

    import events
    from deliveries.models import Attempt, Delivery
    from events.models import Event

    environment.reset_data()
    environment.create_endpoints(org, [receiver.url(f"{path}e{index}") for index in range(endpoints)])
    expected = events_count * endpoints
    receiver.reset()
    probes = {"receiver": [receiver.pid], "workers": worker_pids, "postgres": environment.database_backends()}
    cpu_before = {name: environment.cpu_seconds(pids) for name, pids in probes.items()}
    sessions_before = environment.sessions_opened()
    started = time.time()
    for first in range(0, events_count, emit_batch):
        with transaction.atomic():
            if emit_batch == 1:
                events.emit(environment.EVENT_TYPE, {**PAYLOAD, "n": first}, organisation=org)
            else:
                last = min(events_count, first + emit_batch)
                events.emit_many([(environment.EVENT_TYPE, {**PAYLOAD, "n": n}, org) for n in range(first, last)])
    emitted = time.time()
    succeeded = _wait_for(lambda: Delivery.objects.filter(status="succeeded").count(), expected, limits.e2e_timeout)
    finished = Delivery.objects.aggregate(last=Max("completed_at"))["last"]
    elapsed = (finished.timestamp() if finished else time.time()) - started
    arrivals = receiver.arrivals()
    created = {event_id: at.timestamp() for event_id, at in Event.objects.values_list("id", "created_at")}
    latencies = [(at - created[event_id]) * 1000 for event_id, _, at in arrivals if event_id in created]
    probes["postgres"] = sorted(set(probes["postgres"]) | set(environment.database_backends()))
    cpu = {name: environment.cpu_seconds(pids) - cpu_before.get(name, 0.0) for name, pids in probes.items()}
    return {
        "rate": succeeded / elapsed,
        "emit_seconds": emitted - started,
        "complete": succeeded == expected,
        "received": len(arrivals),
        "duplicates": len(arrivals) - len({(event_id, path) for event_id, path, _ in arrivals}),
        "attempts_logged": Attempt.objects.filter(succeeded=True).count(),
        "latency_p50": percentile(latencies, 0.5),
        "latency_p99": percentile(latencies, 0.99),
        "receiver_cpu_share": cpu["receiver"] / elapsed,
        "worker_cpu_ms": cpu["workers"] * 1000 / max(succeeded, 1),
        "postgres_cpu_ms": cpu["postgres"] * 1000 / max(succeeded, 1),
        "connections_opened": environment.sessions_opened() - sessions_before,
        "deliveries": expected,
        "bytes": environment.table_stats()["bytes"],
    }


def _wait_for(count, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    value = count()
    while value < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        value = count()
    return value


# --- 5. wide fan-out -------------------------------------------------------------------------


# Every endpoint's condition holds for PAYLOAD: each is evaluated and every delivery is still created,
# so the figure compares with the plain fan-out (the worst case: nothing is filtered out).
FAN_OUT_CONDITION = {
    "and": [
        {"path": "invoice", "gte": 1},
        {"path": "customer", "exists": True},
        {"not": {"path": "amount", "in": ["0", "0.00"]}},
    ]
}


def fan_out_wide(receiver, org, *, endpoints: int, limits: Limits, condition: dict | None = None) -> dict[str, float]:
    """One event to ``endpoints`` endpoints (each with ``condition``): until all deliveries exist, and until all
    succeeded."""
    from django.db import transaction
    from django.db.models import Max

    import events
    from deliveries.models import Delivery

    environment.reset_data()
    environment.create_endpoints(
        org, [receiver.url(f"/fan/e{index}") for index in range(endpoints)], condition=condition
    )
    receiver.reset()
    with transaction.atomic():
        event = events.emit(environment.EVENT_TYPE, dict(PAYLOAD), organisation=org)
    committed = time.time()
    deadline = time.monotonic() + limits.e2e_timeout
    while not Delivery.objects.filter(event_id=event.id).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    created = time.time()
    succeeded = _wait_for(lambda: Delivery.objects.filter(status="succeeded").count(), endpoints, limits.e2e_timeout)
    finished = Delivery.objects.aggregate(last=Max("completed_at"))["last"]
    return {
        "create_seconds": created - committed,
        "arrived_seconds": (finished.timestamp() if finished else time.time()) - committed,
        "complete": succeeded == endpoints,
        "received": receiver.stats()["count"],
        "deliveries": endpoints,
        "bytes": environment.table_stats()["bytes"],
    }
