"""The single-emit scenarios: one emit() per transaction from N producer processes, light load, the peer.

Clocks: end to end runs from the first producer transaction to the last delivery logged
(Hookline: the last `completed_at`; the peer logs nothing, so its last arrival); drain from the
first to the last arrival at the receiver; latency is arrival minus the event's (or the peer
order's) `created_at`. Per-delivery costs come from /proc (worker CPU), bench/probe.py inside the
workers (Celery messages, SQL statements) and Redis INFO commandstats (server-wide: minus the idle
rate measured just before, see counters.redis_idle_rate).
"""

from __future__ import annotations

import time

from . import counters, environment, producers
from .scenarios import Limits, _wait_for, percentile

PEER_PATH = "/peer/"


def prepare(
    receiver, org, kind: str, path: str, endpoint_options: dict | None = None, endpoints: list[str] | None = None
) -> None:
    """Empty tables and queues; one endpoint (Hookline) on ``path``, with ``endpoint_options``, or one on
    each of the paths ``endpoints``; the receiver's log cleared."""
    from django.db import connection

    from bench.peer.app import app as peer_app
    from bench.peer.models import ensure_table as ensure_peer
    from bench.plain import ensure_table as ensure_plain

    ensure_plain()
    ensure_peer()
    environment.reset_data()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bench_plain_row, bench_peer_order")
    peer_app.control.purge()
    if kind == "hookline":
        ids = environment.create_endpoints(org, [receiver.url(one) for one in endpoints or [f"{path}e0"]])
        if endpoint_options:
            from hooks.models import Webhook

            Webhook.objects.filter(id__in=ids).update(**endpoint_options)
    receiver.reset()


def _delivered(kind: str, receiver):
    if kind == "peer":
        return lambda: receiver.stats()["count"]
    from deliveries.models import Delivery

    return lambda: Delivery.objects.filter(status="succeeded").count()


def created_times(kind: str) -> dict[str, float]:
    """webhook-id → when its event (the peer: its order) was created, as the receiver records the id."""
    if kind == "peer":
        from bench.peer.models import PeerOrder

        return {f"peer_{pk}": at.timestamp() for pk, at in PeerOrder.objects.values_list("pk", "created_at")}
    from events.models import Event

    return {event_id: at.timestamp() for event_id, at in Event.objects.values_list("id", "created_at")}


def _latencies(kind: str, arrivals) -> list[float]:
    created = created_times(kind)
    return [(at - created[event_id]) * 1000 for event_id, _, at in arrivals if event_id in created]


def _last_logged(kind: str, arrivals) -> float | None:
    if kind == "peer":
        return max((at for _, _, at in arrivals), default=None)
    from django.db.models import Max

    from deliveries.models import Delivery

    last = Delivery.objects.aggregate(last=Max("completed_at"))["last"]
    return last.timestamp() if last else None


def _outcome(kind: str, receiver, expected: int, started: float, limits: Limits) -> dict:
    """Wait until every delivery is done (bounded), then the rates and latencies."""
    delivered = _wait_for(_delivered(kind, receiver), expected, limits.e2e_timeout)
    arrivals = receiver.arrivals()
    times = sorted(at for _, _, at in arrivals)
    latencies = _latencies(kind, arrivals)
    finished = _last_logged(kind, arrivals) or time.time()
    drain_window = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {
        "deliveries": expected,
        "delivered": delivered,
        "complete": delivered >= expected,
        "duplicates": len(arrivals) - len({event_id for event_id, _, _ in arrivals}),
        "rate": delivered / max(finished - started, 1e-6),
        "drain_rate": (len(times) - 1) / drain_window if len(times) > 1 else float("nan"),
        "latency_p50": percentile(latencies, 0.5),
        "latency_p99": percentile(latencies, 0.99),
        "latency_max": max(latencies, default=float("nan")),
    }


def single_emit(
    receiver,
    org,
    *,
    kind: str = "hookline",
    total: int,
    processes: int,
    path: str = "/fast/",
    limits: Limits,
    worker_pids: list[int],
    redis_idle: float,
    endpoint_options: dict | None = None,
) -> dict:
    """``total`` transactions with one emit each from ``processes`` producers; throughput and costs."""
    prepare(receiver, org, kind, path, endpoint_options)
    cpu_before = environment.cpu_seconds(worker_pids)
    probe_before = counters.settled_probe(worker_pids)
    redis_before, redis_started = counters.redis_commands(), time.monotonic()
    produced = producers.run_processes(kind, total, processes, max_seconds=limits.e2e_timeout)
    result = _outcome(kind, receiver, produced["count"], produced["first"], limits)
    redis_after, redis_window = counters.redis_commands(), time.monotonic() - redis_started
    cpu = environment.cpu_seconds(worker_pids) - cpu_before
    probe = counters.probe_delta(probe_before, counters.settled_probe(worker_pids))
    n = max(result["delivered"], 1)
    redis_raw = redis_after - redis_before - 1
    result.update(counters.per_delivery(probe, n))
    result.update(
        {
            "emit_rate": produced["emit_rate"],
            "emit_seconds": produced["last"] - produced["first"],
            "worker_cpu_ms": cpu * 1000 / n,
            "redis_raw_per_delivery": redis_raw / n,
            "redis_per_delivery": max(redis_raw - redis_idle * redis_window, 0) / n,
        }
    )
    return result


def backlog_drain(receiver, org, *, total: int, limits: Limits, worker_pids: list[int], path: str = "/fast/") -> dict:
    """The workers' own capacity, without the producers' ceiling: ``total`` events already waiting
    in the outbox (one row each, as ``total`` single-emit transactions leave them; written here with
    emit_many while no wake-up is published), then one wake-up; deliveries/s from it to the last
    delivery logged, and the workers' CPU per delivery."""
    from django.db import transaction

    import events
    from deliveries import wakeup
    from events import outbox

    prepare(receiver, org, "hookline", path)
    dispatcher, background = outbox._dispatcher, outbox._background
    outbox.set_dispatcher(None)
    try:
        with transaction.atomic():
            events.emit_many([("order.created", {"order": n, "total": "9.90"}, org) for n in range(total)])
    finally:
        outbox.set_dispatcher(dispatcher, background=background)
    cpu_before = environment.cpu_seconds(worker_pids)
    started = time.time()
    wakeup.publish()
    result = _outcome("hookline", receiver, total, started, limits)
    result["worker_cpu_ms"] = (environment.cpu_seconds(worker_pids) - cpu_before) * 1000 / max(result["delivered"], 1)
    return result


def light_load(
    receiver, org, *, kind: str = "hookline", rate: float = 20.0, seconds: float = 30.0, limits: Limits
) -> dict:
    """One producer at a fixed ``rate`` for ``seconds``: emit-to-arrival latency when quiet."""
    prepare(receiver, org, kind, "/fast/")
    produced = producers.run_paced(kind, org, rate, seconds)
    result = _outcome(kind, receiver, produced["count"], produced["first"], limits)
    result["emit_rate"] = produced["count"] / max(produced["last"] - produced["first"], 1e-6)
    return result
