"""The single-emit part of a run (headline, 200 ms, light load, the naive peer), scaling, and their rows."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import counters, environment, report, single, workers
from .peer.workers import COMMAND as PEER_COMMAND
from .peer.workers import PROCESSES as PEER_PROCESSES
from .peer.workers import PeerWorkers

IDLE_SECONDS = 5.0  # the Redis idle baseline before each run's single-emit scenarios
# The headline scenario again with each delivery-control option on its endpoint (deliveries/control.py):
# a limit far above the rate reached (the bucket's cost, not its waiting), a breaker that counts,
# FIFO (one delivery in flight: a throughput limit by design).
CONTROL = {
    "control_rate": ("rate limit 100,000/s (never reached)", {"rate_limit": 100_000}),
    "control_breaker": ("circuit breaker on (threshold 5)", {"breaker_threshold": 5}),
    "control_fifo": ("FIFO", {"ordered": True}),
}


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(number: int, receiver, org, plan, limits, pids: list[int], only: set[str]) -> dict:
    """Hookline's single-emit scenarios against the running workers."""
    run: dict = {}
    if only & {"single", "single-slow", "control"}:
        run["redis_idle_rate"] = counters.redis_idle_rate(IDLE_SECONDS)
    common = {
        "total": plan.single_emit,
        "processes": plan.producers,
        "limits": limits,
        "worker_pids": pids,
        "redis_idle": run.get("redis_idle_rate", 0.0),
    }
    if "single" in only:
        _say(f"run {number}: {plan.single_emit} transactions × 1 emit() from {plan.producers} producer processes")
        run["single_emit"] = single.single_emit(receiver, org, path="/fast/", **common)
        _say(f"run {number}: the workers' capacity: a backlog of {plan.single_emit} events, one wake-up")
        run["backlog"] = single.backlog_drain(receiver, org, total=plan.single_emit, limits=limits, worker_pids=pids)
    if "single-slow" in only:
        _say(f"run {number}: the same, receiver answering in 200 ms")
        run["single_slow"] = single.single_emit(receiver, org, path="/slow/", **common)
        run["backlog_slow"] = single.backlog_drain(
            receiver, org, total=plan.single_emit, limits=limits, worker_pids=pids, path="/slow/"
        )
    if "control" in only:
        for name, (label, options) in CONTROL.items():
            _say(f"run {number}: the headline with {label}")
            run[name] = single.single_emit(receiver, org, path="/fast/", endpoint_options=options, **common)
    if "light" in only:
        _say(f"run {number}: light load, {plan.light_rate:g} events/s for {plan.light_seconds:g} s")
        run["light"] = single.light_load(receiver, org, rate=plan.light_rate, seconds=plan.light_seconds, limits=limits)
    return run


def measure_peer(number: int, receiver, org, plan, limits, log_dir: Path) -> dict:
    """The naive peer, its own workers started for this run and stopped after it."""
    _say(f"run {number}: naive peer ({PEER_PROCESSES} × `{PEER_COMMAND}`)")
    run = {"peer_redis_idle_rate": None}
    with PeerWorkers(receiver.url(single.PEER_PATH), log_dir, probe_dir=counters.PROBE_DIR) as peer:
        pids = [pid for root in peer.pids for pid in environment.process_tree(root)]
        single.prepare(receiver, org, "peer", single.PEER_PATH)
        single.light_load(receiver, org, kind="peer", rate=plan.light_rate, seconds=2, limits=limits)  # warm-up
        run["peer_redis_idle_rate"] = counters.redis_idle_rate(IDLE_SECONDS)
        run["peer_single"] = single.single_emit(
            receiver,
            org,
            kind="peer",
            total=plan.single_emit,
            processes=plan.producers,
            limits=limits,
            worker_pids=pids,
            redis_idle=run["peer_redis_idle_rate"],
        )
        run["peer_light"] = single.light_load(
            receiver, org, kind="peer", rate=plan.light_rate, seconds=plan.light_seconds, limits=limits
        )
    return run


def scaling(receiver, org, plan, limits, log_dir: Path, raw_rate) -> list[dict]:
    """The headline scenario with 1, 2 and 4 worker processes (the README's command each)."""
    measured = []
    for processes in (1, 2, 4):
        setup = workers.WorkerSetup(f"{processes} processes", workers.RECOMMENDED, processes=processes)
        _say(f"scaling: {processes} worker process(es)")
        started = workers.start(setup, log_dir)
        pids = workers.pids(started)
        try:
            single.single_emit(
                receiver,
                org,
                total=max(100, plan.single_emit // 5),
                processes=plan.producers,
                limits=limits,
                worker_pids=pids,
                redis_idle=0.0,
            )  # warm-up
            idle = counters.redis_idle_rate(IDLE_SECONDS)
            runs = []
            for _ in range(plan.runs):
                result = single.single_emit(
                    receiver,
                    org,
                    total=plan.single_emit,
                    processes=plan.producers,
                    limits=limits,
                    worker_pids=pids,
                    redis_idle=idle,
                )
                backlog = single.backlog_drain(receiver, org, total=plan.single_emit, limits=limits, worker_pids=pids)
                result.update(backlog_rate=backlog["rate"], backlog_cpu_ms=backlog["worker_cpu_ms"])
                result["raw"] = raw_rate()
                runs.append(result)
        finally:
            workers.stop(started)
        keys = (
            "rate",
            "drain_rate",
            "emit_rate",
            "worker_cpu_ms",
            "messages_received",
            "sql_per_delivery",
            "redis_per_delivery",
            "latency_p50",
            "backlog_rate",
            "backlog_cpu_ms",
        )
        row = {key: report.median([run[key] for run in runs]) for key in keys}
        row["ratio"] = report.median([run["rate"] / run["raw"] for run in runs])
        row.update(processes=processes, complete=all(run["complete"] for run in runs), load=environment.load_average())
        measured.append(row)
    return measured


def render_scaling(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "### Scaling: one emit() per transaction, 1, 2 and 4 worker processes (medians)",
        "",
        "| worker processes | deliveries/s | ratio to raw | drain/s | emit rate/s | worker CPU ms/delivery "
        "| Celery messages/delivery | SQL statements/delivery | Redis commands/delivery | p50 latency ms "
        "| backlog drain/s | backlog CPU ms/delivery | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['processes']} | {row['rate']:.0f} | {row['ratio']:.2f} | {row['drain_rate']:.0f} "
            f"| {row['emit_rate']:.0f} | {row['worker_cpu_ms']:.2f} | {row['messages_received']:.2f} "
            f"| {row['sql_per_delivery']:.1f} | {row['redis_per_delivery']:.1f} | {row['latency_p50']:.0f} "
            f"| {row['backlog_rate']:.0f} | {row['backlog_cpu_ms']:.2f} | {row['load']} |"
        )
    return lines


def rows(plan) -> list:
    """The table rows of the single-emit scenarios (first in the table: they are the headline)."""
    Row = report.Row
    n, p = plan.single_emit, plan.producers

    def get(scenario: str, key: str):
        return lambda r: r[scenario][key]

    def costs(scenario: str) -> list:
        return [
            Row("  worker CPU per delivery", "ms", get(scenario, "worker_cpu_ms"), "time", 1e-3),
            Row("  Celery messages per delivery (received by the workers)", "msgs", get(scenario, "messages_received")),
            Row("  SQL statements per delivery, worker side (all)", "stmts", get(scenario, "sql_per_delivery")),
            Row("    of which through Django cursors", "stmts", get(scenario, "sql_django_per_delivery")),
            Row(
                "    of which BEGIN/COMMIT (2 per transaction)",
                "stmts",
                lambda r: 2 * r[scenario]["transactions_per_delivery"],
            ),
            Row(
                "    of which connection health checks (SELECT 1)", "stmts", get(scenario, "health_checks_per_delivery")
            ),
            Row(
                "  Redis commands per delivery (server-wide, minus idle rate)",
                "cmds",
                get(scenario, "redis_per_delivery"),
            ),
            Row("  Redis commands per delivery (server-wide, raw)", "cmds", get(scenario, "redis_raw_per_delivery")),
        ]

    def throughput(scenario: str) -> list:
        return [
            Row("  end to end (first emit → last delivery logged)", "deliveries/s", get(scenario, "rate"), "rate"),
            Row("  drain (first → last arrival)", "deliveries/s", get(scenario, "drain_rate"), "rate"),
            Row("  producers' emit rate", "transactions/s", get(scenario, "emit_rate"), "rate"),
            Row(
                "  drain ÷ emit rate (≥ 1: the workers keep up)",
                "×",
                lambda r: r[scenario]["drain_rate"] / r[scenario]["emit_rate"],
            ),
        ]

    def latency(scenario: str) -> list:
        return [
            Row(f"  emit → arrival {name}", "ms", get(scenario, f"latency_{name}"), "time", 1e-3)
            for name in ("p50", "p99", "max")
        ]

    def control(scenario: str, label: str) -> list:
        return [
            f"0e. the headline with {label} on the endpoint",
            Row("  end to end (first emit → last delivery logged)", "deliveries/s", get(scenario, "rate"), "rate"),
            Row("  emit → arrival p50", "ms", get(scenario, "latency_p50"), "time", 1e-3),
            Row("  worker CPU per delivery", "ms", get(scenario, "worker_cpu_ms"), "time", 1e-3),
            Row("  SQL statements per delivery, worker side (all)", "stmts", get(scenario, "sql_per_delivery")),
            Row(
                "  Redis commands per delivery (server-wide, minus idle rate)",
                "cmds",
                get(scenario, "redis_per_delivery"),
            ),
        ]

    return [
        f"0. HEADLINE: one emit() per transaction ({n:,} transactions from {p} producer processes, 1 endpoint)",
        *throughput("single_emit"),
        *latency("single_emit"),
        *costs("single_emit"),
        f"0a. the workers' capacity without the producers' ceiling: {n:,} waiting events (one row each), one wake-up",
        Row("  backlog drained (wake-up → last delivery logged)", "deliveries/s", get("backlog", "rate"), "rate"),
        Row("  worker CPU per delivery", "ms", get("backlog", "worker_cpu_ms"), "time", 1e-3),
        "0b. the same, receiver answering in 200 ms",
        *throughput("single_slow"),
        *latency("single_slow"),
        Row("  worker CPU per delivery", "ms", get("single_slow", "worker_cpu_ms"), "time", 1e-3),
        Row("  backlog drained, 200 ms receiver", "deliveries/s", get("backlog_slow", "rate"), "rate"),
        f"0c. light load: one producer, {plan.light_rate:g} emits/s for {plan.light_seconds:g} s",
        *latency("light"),
        Row("  delivered", "deliveries", get("light", "delivered")),
        *[line for name, (label, _) in CONTROL.items() for line in control(name, label)],
        f"0d. naive peer (post_save → 1 Celery task → 1 requests.post; {PEER_PROCESSES} × `… --pool threads "
        "--concurrency 8`), same producers",
        *throughput("peer_single"),
        *latency("peer_single"),
        *costs("peer_single"),
        f"  peer light load ({plan.light_rate:g}/s for {plan.light_seconds:g} s)",
        *latency("peer_light"),
        Row(
            "  Hookline end to end ÷ peer end to end (one emit per transaction)",
            "×",
            lambda r: r["single_emit"]["rate"] / r["peer_single"]["rate"],
        ),
    ]
