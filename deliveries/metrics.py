"""Prometheus metrics: counters fed by the delivery path, backlog and endpoint gauges read at scrape time.

Multi-process safe: with ``PROMETHEUS_MULTIPROC_DIR`` set (before the process imports prometheus_client),
every web and worker process writes its counters to mmap'd files in that directory, and ``/metrics``
merges them. Gauges that describe the database (backlog, endpoints by state) are not kept by any
process: a collector computes them with a few indexed queries when Prometheus scrapes.
"""

from __future__ import annotations

import os
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Metric, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

OUTCOMES = ("succeeded", "retrying", "failed", "cancelled")

DELIVERIES = Counter(
    "hookline_deliveries",
    "Delivery outcomes: each attempt that succeeded, failed for good or will be retried, "
    "and deliveries cancelled or failed without a request.",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "hookline_attempt_duration_seconds",
    "Duration of one HTTP attempt, connection included.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LATENCY_SECONDS = Histogram(
    "hookline_delivery_latency_seconds",
    "From emit() to the receiver's 2xx, retries included.",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 3 * 86400),
)
SWEEPS = Counter("hookline_sweeper_runs", "Sweeper runs.")
SWEPT = Counter("hookline_sweeper_recovered", "Work the sweeper found stranded and handed out again.", ["kind"])
SWEEP_LAST = Gauge(
    "hookline_sweeper_last_run_timestamp_seconds",
    "When the sweeper last finished (Unix time).",
    multiprocess_mode="max",
)
PRUNED = Counter("hookline_pruned_rows", "Rows deleted by the retention pruner.", ["table"])

# Children bound once: .labels() hashes its arguments on every call.
_OUTCOME = {outcome: DELIVERIES.labels(outcome) for outcome in OUTCOMES}


def count_recorded(outcomes: Iterable[str], durations_ms: Iterable[int], latencies: Iterable[float]) -> None:
    """Count one recorded batch: one increment per outcome seen, one observation per attempt and success.

    Cost: prometheus-client's in-process (or mmap'd) values; no I/O, no lock shared between processes.
    """
    for outcome, number in Tally(outcomes).items():
        _OUTCOME[outcome].inc(number)
    for duration in durations_ms:
        ATTEMPT_SECONDS.observe(duration / 1000)
    for latency in latencies:
        LATENCY_SECONDS.observe(latency)


def sweeper_ran(events: int, deliveries: int) -> None:
    SWEEPS.inc()
    if events:
        SWEPT.labels("events").inc(events)
    if deliveries:
        SWEPT.labels("deliveries").inc(deliveries)
    SWEEP_LAST.set(time.time())


def pruned(table: str, rows: int) -> None:
    if rows:
        PRUNED.labels(table).inc(rows)


class DatabaseCollector(Collector):
    """Backlog and endpoint gauges, read from the database when Prometheus scrapes (never on the hot path)."""

    def collect(self) -> Iterator[Metric]:
        from . import health  # the ORM is ready by the time anyone scrapes

        backlog = health.backlog()
        yield _gauge("hookline_events_undispatched", "Events whose fan-out has not run.", backlog.undispatched_events)
        yield _gauge(
            "hookline_deliveries_due", "Pending deliveries due now (waiting for a worker).", backlog.due_deliveries
        )
        yield _gauge(
            "hookline_deliveries_pending",
            "Pending deliveries, due or scheduled for a retry.",
            backlog.pending_deliveries,
        )
        yield _gauge(
            "hookline_backlog_oldest_seconds",
            "Age of the oldest undispatched event or due delivery.",
            backlog.oldest_seconds,
        )
        states = GaugeMetricFamily("hookline_endpoints", "Endpoints by state.", labels=["state"])
        for state, number in health.endpoints_by_state().items():
            states.add_metric([state], number)
        yield states
        control = GaugeMetricFamily(
            "hookline_endpoints_delivery_control",
            "Endpoints by circuit-breaker state, and paused endpoints.",
            labels=["state"],
        )
        for state, number in health.endpoints_by_breaker().items():
            control.add_metric([state], number)
        yield control
        retrying = GaugeMetricFamily(
            "hookline_endpoint_retrying_deliveries",
            "Pending deliveries that failed at least once, per endpoint "
            f"(the {health.TOP_FAILING} endpoints with most).",
            labels=["endpoint", "name"],
        )
        for endpoint_id, name, number in health.retrying_by_endpoint():
            retrying.add_metric([str(endpoint_id), name], number)
        yield retrying


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def exposition() -> bytes:
    """The text format of every metric: this process's (or all processes') counters and the database gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class _ProcessMetrics(Collector):
    """This process's own metrics (single-process mode) without re-registering the database collector."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def mark_process_dead(pid: int) -> None:
    """Drop a finished process's live gauges (gunicorn's child_exit, Celery's worker_process_shutdown)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated


def latency_since(emitted_at: datetime, now: datetime) -> float:
    return max((now - emitted_at).total_seconds(), 0.0)
