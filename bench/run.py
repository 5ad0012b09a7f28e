"""`make bench`: Hookline's performance benchmark; prints medians of 3 runs (docs/performance.md).

It starts its own receiver (a separate asyncio process), uses the real PostgreSQL (its own
database, migrated here) and Redis (its own DB number and queue), starts worker processes with
the README's command (`celery -A webhooks_project worker ...`), and prints every figure next to
its ratio to the raw client limit measured in the same run. Every step is bounded in count and
time; `--quick` is a one-run, small-count version for development.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import environment, headline, noisy, report, workers  # noqa: E402
from bench.workers import CANDIDATES, WorkerSetup  # noqa: E402

RECOMMENDED, CORES = workers.RECOMMENDED, workers.CORES
SCENARIOS = (
    "emit",
    "single",
    "single-slow",
    "light",
    "control",
    "peer",
    "batch",
    "fanout",
    "fanout-conditions",
    "compare",
    "scaling",
    "noisy",
)
DEFAULT = set(SCENARIOS) - {"scaling", "noisy"}
SINGLE_EMIT = (
    "single_emit",
    "single_slow",
    "light",
    "control_rate",
    "control_breaker",
    "control_fifo",
    "peer_single",
    "peer_light",
)


@dataclass(frozen=True)
class Plan:
    runs: int = 3
    single: int = 5000  # events × 1 endpoint
    wide: tuple[int, int] = (500, 10)  # events × endpoints
    slow: int = 2000  # events × 1 endpoint answering in 200 ms
    fan_out: int = 10000  # endpoints of one event
    compare: bool = True
    single_emit: int = 2000  # transactions, one emit() each, from `producers` processes
    producers: int = 4
    light_rate: float = 20.0  # events/s of the light-load scenario
    light_seconds: float = 30.0


FULL = Plan()
QUICK = Plan(
    runs=1, single=1000, wide=(100, 10), slow=400, fan_out=2000, compare=False, single_emit=500, light_seconds=10.0
)


def main() -> None:
    arguments = _parse()
    if arguments.render:
        results = json.loads(Path(arguments.render).read_text())
        print(
            _render(
                results,
                replace(FULL, **{**results["meta"]["plan"], "wide": tuple(results["meta"]["plan"]["wide"])}),
                arguments.threads,
            )
        )
        return
    only = _only(arguments)
    plan = QUICK if arguments.quick else FULL
    plan = replace(
        plan,
        runs=arguments.runs or plan.runs,
        producers=arguments.producers or plan.producers,
        compare=plan.compare and not arguments.no_compare and "compare" in only,
    )
    environment.configure()
    environment.migrate()
    from bench import scenarios
    from bench.receiver import ReceiverProcess

    limits = scenarios.Limits(emit_count=500 if arguments.quick else 2000)
    budget_end = time.monotonic() + arguments.budget
    hard_end = time.monotonic() + arguments.max_seconds
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = {"meta": _meta(arguments, plan, only), "runs": [{} for _ in range(plan.runs)], "compare": [], "notes": []}
    _say(
        f"Hookline benchmark: {plan.runs} run(s) of {', '.join(sorted(only))}; "
        f"load average {environment.load_average()} on {CORES} CPUs"
    )

    org = environment.organisation()
    environment.reset_data()
    # Emit cost first, with no worker running: their fan-out would share the CPU being measured.
    for index in range(plan.runs if "emit" in only else 0):
        _say(f"run {index + 1}: emit cost")
        results["runs"][index]["emit"] = scenarios.emit_cost(org, limits)
    environment.reset_data()

    with ReceiverProcess(delay=0.2) as receiver:
        if only & {"single", "single-slow", "light", "control", "peer", "batch", "fanout", "fanout-conditions"}:
            _measure_runs(results, receiver, org, plan, limits, log_dir, only, hard_end, arguments.threads)
        if plan.compare:
            results["compare"] = _compare(
                receiver, org, plan, limits, log_dir, min(budget_end, hard_end), results["notes"]
            )
        if "noisy" in only:
            results["noisy_configs"] = [vars(config) for config in _noisy_configs(arguments)]
            results["noisy_peer_threads"] = arguments.peer_threads
            results["noisy"] = noisy.run_all(
                receiver,
                org,
                _noisy_configs(arguments),
                plan.runs,
                log_dir,
                hard_end,
                results["notes"],
                peer_threads=arguments.peer_threads,
            )
        if "scaling" in only:
            from bench import clients

            results["scaling"] = headline.scaling(
                receiver,
                org,
                plan,
                limits,
                log_dir,
                lambda: clients.one_session(receiver.url("/raw/"), limits.raw_count, limits.raw_seconds),
            )

    results["meta"]["finished_load"] = environment.load_average()
    text = _render(results, plan, arguments.threads)
    print(text)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (log_dir / f"results-{stamp}.json", log_dir / "last.json"):
        path.write_text(json.dumps(results, indent=1, default=str))
    (log_dir / "last.md").write_text(text + "\n")
    _say(f"wrote {log_dir / 'last.json'} and {log_dir / 'last.md'}")


def _measure_runs(
    results: dict, receiver, org, plan: Plan, limits, log_dir: Path, only: set[str], hard_end: float, threads: int
) -> None:
    """Every run against the README's workers (started once), the naive peer's after them."""
    started = workers.start(WorkerSetup("recommended", RECOMMENDED, processes=CORES), log_dir)
    pids = workers.pids(started)
    try:
        _say("warm-up: open the workers' connections")
        _warm_up(receiver, org, limits, pids, plan.single // 5)
        for index, run in enumerate(results["runs"]):
            if time.monotonic() > hard_end:
                results["notes"].append(f"--max-seconds reached: run {index + 1} and later not measured")
                break
            run.update(_measure_run(index + 1, receiver, org, plan, limits, pids, threads, only))
            _say(f"run {index + 1}: {json.dumps(_brief(run))}")
        results["workers"] = {
            "command": RECOMMENDED,
            "processes": CORES,
            "peak_rss_mb": {pid: environment.memory_kib(pid).get("VmHWM", 0) / 1024 for pid in pids},
        }
    finally:
        workers.stop(started)
    # The peer's workers run alone (Hookline's are stopped), against the same receiver and services.
    for index, run in enumerate(results["runs"] if "peer" in only else []):
        if time.monotonic() > hard_end or "raw" not in run:
            break
        run.update(headline.measure_peer(index + 1, receiver, org, plan, limits, log_dir))


def _measure_run(number: int, receiver, org, plan: Plan, limits, pids: list[int], threads: int, only: set[str]) -> dict:
    """One run: the raw limits, then every chosen scenario against the running workers."""
    from bench import scenarios

    _say(f"run {number}: raw client limits (load {environment.load_average()})")
    run = {"load": environment.load_average(), "raw": scenarios.raw_limits(receiver, limits, threads=threads)}
    run.update(headline.measure(number, receiver, org, plan, limits, pids, only))
    before = environment.settled_table_stats()
    common = {"limits": limits, "worker_pids": pids}
    if "batch" in only:
        _say(f"run {number}: {plan.single} events × 1 endpoint (emit_many)")
        run["single"] = scenarios.end_to_end(
            receiver, org, events_count=plan.single, endpoints=1, path="/fast/", **common
        )
        _say(f"run {number}: {plan.wide[0]} events × {plan.wide[1]} endpoints")
        run["wide"] = scenarios.end_to_end(
            receiver, org, events_count=plan.wide[0], endpoints=plan.wide[1], path="/fast/", **common
        )
        _say(f"run {number}: {plan.slow} events × 1 endpoint answering in 200 ms")
        run["slow"] = scenarios.end_to_end(receiver, org, events_count=plan.slow, endpoints=1, path="/slow/", **common)
    if "fanout" in only:
        _say(f"run {number}: one event to {plan.fan_out} endpoints")
        run["fan_out"] = scenarios.fan_out_wide(receiver, org, endpoints=plan.fan_out, limits=limits)
    if "fanout-conditions" in only:
        _say(f"run {number}: one event to {plan.fan_out} endpoints, each with a payload condition")
        run["fan_out_conditions"] = scenarios.fan_out_wide(
            receiver, org, endpoints=plan.fan_out, limits=limits, condition=scenarios.FAN_OUT_CONDITION
        )
    measured = [run[name] for name in ("single", "wide", "slow", "fan_out", "fan_out_conditions") if name in run]
    if measured:
        after = environment.settled_table_stats()
        delivered = sum(result["deliveries"] for result in measured)
        written = after["inserted"] + after["updated"] - before["inserted"] - before["updated"]
        run["storage"] = {
            "rows_per_delivery": written / delivered,
            "bytes_per_delivery": sum(result["bytes"] for result in measured) / delivered,
        }
    run["rss_mb"] = {pid: environment.memory_kib(pid).get("VmRSS", 0) / 1024 for pid in pids}
    run["headroom"] = _headroom(run)
    return run


def _compare(receiver, org, plan: Plan, limits, log_dir: Path, budget_end: float, notes: list[str]) -> list[dict]:
    """Each candidate worker command once: single-emit backlogs (fast, 200 ms) and the batch path, next to a fresh raw
    limit."""
    from bench import clients, scenarios, single

    compared = []
    for setup in CANDIDATES:
        if time.monotonic() > budget_end:
            notes.append(f"time budget spent: worker command {setup.label!r} not compared")
            continue
        _say(f"compare: {setup.label}")
        started = workers.start(setup, log_dir)
        pids = workers.pids(started)
        try:
            _warm_up(receiver, org, limits, pids, plan.single // 5)
            raw = clients.one_session(receiver.url("/raw/"), limits.raw_count, limits.raw_seconds)
            common = {"limits": limits, "worker_pids": pids}
            fast = scenarios.end_to_end(receiver, org, events_count=plan.single, endpoints=1, path="/fast/", **common)
            slow = scenarios.end_to_end(receiver, org, events_count=plan.slow, endpoints=1, path="/slow/", **common)
            # The single-emit path (the headline): the workers' capacity on waiting single-emit events.
            single_fast = single.backlog_drain(receiver, org, total=plan.single_emit, **common)
            single_slow = single.backlog_drain(receiver, org, total=plan.single_emit, path="/slow/", **common)
            peak = max(environment.memory_kib(pid).get("VmHWM", 0) for pid in pids) / 1024
        finally:
            workers.stop(started)
        compared.append(
            {
                "label": setup.label,
                "command": setup.command,
                "processes": setup.processes,
                "env": dict(setup.env),
                "raw_session": raw,
                "fast": fast,
                "slow": slow,
                "peak_rss_mb": peak,
                "single_fast": single_fast,
                "single_slow": single_slow,
                "load": environment.load_average(),
            }
        )
    return compared


def _warm_up(receiver, org, limits, pids: list[int], count: int) -> None:
    """A few batches first, so that measured runs do not pay for connections and imports."""
    from bench import scenarios

    scenarios.end_to_end(receiver, org, events_count=count, endpoints=1, path="/fast/", limits=limits, worker_pids=pids)


def _headroom(run: dict) -> dict:
    """How many times the rate asked of the receiver it sustains: shown by the load generator, and
    what one core of the receiver absorbs (from its CPU per request)."""
    raw = run["raw"]
    asked = [raw["raw_session"], raw["raw_threads"]]
    asked += [run[name]["rate"] for name in ("single", "wide", "single_emit") if name in run]
    if "fan_out" in run:
        asked.append(run["fan_out"]["deliveries"] / run["fan_out"]["arrived_seconds"])
    slow = max([run[name]["rate"] for name in ("slow", "single_slow") if name in run] or [float("nan")])
    return {
        "fast_shown": raw["receiver"] / max(asked),
        "fast_capacity": raw["receiver_per_core"] / max(asked),
        "slow_shown": raw["receiver_slow"] / slow,
        "slow_capacity": raw["receiver_slow_per_core"] / slow,
    }


def _brief(run: dict) -> dict:
    brief = {"raw": round(run["raw"]["raw_session"])}
    for name in ("single_emit", "single_slow", "single", "wide", "slow"):
        if name in run:
            brief[name] = round(run[name]["rate"])
    if "light" in run:
        brief["light_p50_ms"] = round(run["light"]["latency_p50"], 1)
    return brief


def _rows(plan: Plan, threads: int) -> list:
    Row = report.Row
    single, (wide_events, wide_endpoints), slow, fan = plan.single, plan.wide, plan.slow, plan.fan_out
    return [
        *headline.rows(plan),
        "1. raw client limit (same run)",
        Row("one requests.Session, one thread", "req/s", lambda r: r["raw"]["raw_session"], "rate"),
        Row(f"{threads} threads, one Session each", "req/s", lambda r: r["raw"]["raw_threads"], "rate"),
        Row("aiohttp, 100 in flight", "req/s", lambda r: r["raw"]["raw_asyncio"], "rate"),
        "2. emit cost, inside the transaction of the row it rides on",
        Row("emit() p50", "µs", lambda r: r["emit"]["emit_p50"], "time", 1e-6),
        Row("emit() p99", "µs", lambda r: r["emit"]["emit_p99"], "time", 1e-6),
        Row("plain ORM create(), same-size JSON, p50", "µs", lambda r: r["emit"]["create_p50"], "time", 1e-6),
        Row("plain ORM create() p99", "µs", lambda r: r["emit"]["create_p99"], "time", 1e-6),
        Row("emit() p50 ÷ create() p50", "×", lambda r: r["emit"]["emit_ratio"]),
        Row(
            "commit with the on-commit enqueue of the fan-out, p50",
            "µs",
            lambda r: r["emit"]["commit_emit_p50"],
            "time",
            1e-6,
        ),
        Row("commit of the plain row alone, p50", "µs", lambda r: r["emit"]["commit_plain_p50"], "time", 1e-6),
        Row(
            "transaction with domain row + emit(), commit included, p50",
            "µs",
            lambda r: r["emit"]["txn_emit_p50"],
            "time",
            1e-6,
        ),
        Row("the same transaction without emit(), p50", "µs", lambda r: r["emit"]["txn_plain_p50"], "time", 1e-6),
        Row("  with emit ÷ without (target ≤ 1.5×)", "×", lambda r: r["emit"]["txn_ratio"]),
        Row(
            "emit_many(), per event (100 per call, with commit)",
            "µs",
            lambda r: r["emit"]["emit_many_per_event"],
            "time",
            1e-6,
        ),
        "3. end to end, batch path (emit_many, 100 per transaction), fast receiver (emit → received, all logged)",
        Row(f"{single:,} events × 1 endpoint", "deliveries/s", lambda r: r["single"]["rate"], "rate"),
        Row(
            f"{wide_events:,} events × {wide_endpoints} endpoints", "deliveries/s", lambda r: r["wide"]["rate"], "rate"
        ),
        Row(f"emit → arrival p50 ({single:,} × 1)", "ms", lambda r: r["single"]["latency_p50"], "time", 1e-3),
        Row("worker CPU per delivery", "ms", lambda r: r["single"]["worker_cpu_ms"], "time", 1e-3),
        Row("PostgreSQL CPU per delivery", "ms", lambda r: r["single"]["postgres_cpu_ms"], "time", 1e-3),
        "4. end to end, batch path, receiver answering in 200 ms",
        Row(f"{slow:,} events × 1 endpoint", "deliveries/s", lambda r: r["slow"]["rate"], "rate"),
        Row("emit → arrival p50", "ms", lambda r: r["slow"]["latency_p50"], "time", 1e-3),
        Row("emit → arrival p99", "ms", lambda r: r["slow"]["latency_p99"], "time", 1e-3),
        f"5. fan-out of one event to {fan:,} endpoints",
        Row("time to create all deliveries", "s", lambda r: r["fan_out"]["create_seconds"]),
        Row("  as deliveries created per second", "rows/s", lambda r: fan / r["fan_out"]["create_seconds"], "rate"),
        Row("time until all arrived and logged", "s", lambda r: r["fan_out"]["arrived_seconds"]),
        Row("  as deliveries per second", "deliveries/s", lambda r: fan / r["fan_out"]["arrived_seconds"], "rate"),
        Row(
            "with a 3-part condition on every endpoint: time to create all deliveries",
            "s",
            lambda r: r["fan_out_conditions"]["create_seconds"],
        ),
        Row("  time until all arrived and logged", "s", lambda r: r["fan_out_conditions"]["arrived_seconds"]),
        "6. resources",
        Row("worker RSS after the run (largest process)", "MB", lambda r: max(r["rss_mb"].values())),
        Row(
            f"PostgreSQL connections opened during {single:,} × 1",
            "connections",
            lambda r: r["single"]["connections_opened"],
        ),
        Row(
            "PostgreSQL rows written per delivery (insert + update)",
            "rows",
            lambda r: r["storage"]["rows_per_delivery"],
        ),
        Row(
            "PostgreSQL bytes stored per delivery (heap + indexes)",
            "bytes",
            lambda r: r["storage"]["bytes_per_delivery"],
        ),
        "receiver headroom: what it sustains ÷ the highest rate asked of it (must be ≥ 5×)",
        Row(
            "fast: sustained, minimal asyncio load generator, 200 connections",
            "req/s",
            lambda r: r["raw"]["receiver"],
            "rate",
        ),
        Row("  ÷ the highest rate asked of it (raw clients, end to end)", "×", lambda r: r["headroom"]["fast_shown"]),
        Row(
            "  one receiver core's worth (requests per CPU-second) ÷ that rate",
            "×",
            lambda r: r["headroom"]["fast_capacity"],
        ),
        Row("200 ms: sustained, 2,000 connections", "req/s", lambda r: r["raw"]["receiver_slow"], "rate"),
        Row("  ÷ the rate asked of it (200 ms scenario)", "×", lambda r: r["headroom"]["slow_shown"]),
        Row("  one receiver core's worth ÷ that rate", "×", lambda r: r["headroom"]["slow_capacity"]),
    ]


def _render(results: dict, plan: Plan, threads: int) -> str:
    meta = results["meta"]
    lines = [
        f"## Hookline benchmark, {meta['started']}",
        "",
        f"`{meta['command']}` on {meta['machine']}; commit {meta['commit']}.",
        f"Load average at start {meta['load']}, at the end {meta['finished_load']} "
        "(a shared machine: read the ratios, measured in the same run).",
        f"Workers: `{RECOMMENDED} -I bench.probe`, {CORES} processes (one per core; the probe only counts). "
        f"Single-emit scenarios: one emit() per transaction from {plan.producers} producer processes; "
        "batch path: emit_many(), 100 per transaction.",
        "Redis commands are server-wide (the machine's shared Redis) minus the idle rate measured for 5 s "
        "just before; SQL statements are counted inside the workers by bench/probe.py.",
        "Ratio: a rate ÷ the single-session raw rate of the same run; a time × that rate "
        "(how many raw POSTs fit in it).",
    ]
    if any(results["runs"]):
        lines += ["", report.table(_rows(plan, threads), results["runs"])]
    workers = results.get("workers")
    if workers:
        peaks = ", ".join(f"{value:.0f}" for value in workers["peak_rss_mb"].values())
        lines += ["", f"Peak RSS of each worker process after the whole suite (MB): {peaks}."]
        rss = [max(run["rss_mb"].values()) for run in results["runs"]]
        lines.append("Largest worker RSS after each run (MB): " + ", ".join(f"{value:.0f}" for value in rss) + ".")
    if results["compare"]:
        lines += [
            "",
            "### Worker commands (one run each)",
            "",
            "| worker command | processes | single-emit backlog/s | ratio to raw | single-emit CPU ms/delivery "
            "| single-emit backlog, 200 ms, /s | batch fast deliveries/s | batch 200 ms deliveries/s | "
            "batch worker CPU ms/delivery | DB connections opened | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for item in results["compare"]:
            lines.append(
                f"| {item['label']}: "
                f"`{_env_prefix(item['env'])}{item['command'].replace('celery -A webhooks_project worker ', '… ')}` "
                f"| {item['processes']} | {item['single_fast']['rate']:.0f} "
                f"| {item['single_fast']['rate'] / item['raw_session']:.2f} "
                f"| {item['single_fast']['worker_cpu_ms']:.2f} "
                f"| {item['single_slow']['rate']:.0f} | {item['fast']['rate']:.0f} "
                f"| {item['slow']['rate']:.0f} | {item['fast']['worker_cpu_ms']:.2f} "
                f"| {item['fast'].get('connections_opened', '—')} | {item['peak_rss_mb']:.0f} |"
            )
    if results.get("scaling"):
        lines += headline.render_scaling(results["scaling"])
    if results.get("noisy"):
        lines += noisy.render(
            results["noisy"],
            [noisy.Config(**config) for config in results["noisy_configs"]],
            results.get("noisy_peer_threads", noisy.PEER_THREADS),
        )
    incomplete = [
        f"run {index + 1} {name}"
        for index, run in enumerate(results["runs"])
        for name in ("single", "wide", "slow", "fan_out", "fan_out_conditions", *SINGLE_EMIT)
        if name in run and not run[name]["complete"]
    ]
    incomplete += [f"scaling {row['processes']}" for row in results.get("scaling", []) if not row["complete"]]
    incomplete += [
        f"noisy run {index + 1} {key} {kind}"
        for index, run in enumerate(results.get("noisy", []))
        for key, sides in run.items()
        if isinstance(sides, dict)
        for kind, side in sides.items()
        if not side["complete"]
    ]
    end_to_end = [run[name] for run in results["runs"] for name in ("single", "wide", "slow") if name in run]
    duplicates = sum(result["duplicates"] for result in end_to_end)
    duplicates += sum(run[name]["duplicates"] for run in results["runs"] for name in SINGLE_EMIT if name in run)
    duplicates += sum(
        side["duplicates"]
        for run in results.get("noisy", [])
        for sides in run.values()
        if isinstance(sides, dict)
        for side in sides.values()
    )
    unlogged = sum(result["deliveries"] - result["attempts_logged"] for result in end_to_end)
    lines += [
        "",
        f"Incomplete scenarios: {', '.join(incomplete) or 'none'}; duplicate requests: {duplicates}; "
        f"deliveries without their logged attempt: {unlogged}.",
    ]
    lines += [f"Note: {note}" for note in results["notes"]]
    return "\n".join(lines)


def _noisy_configs(arguments) -> list:
    """The noisy-neighbour configurations: ``--noisy`` specs, or the three of issue 21 (``--quick``: 10 s each)."""
    if arguments.noisy:
        return [noisy.parse(spec) for spec in arguments.noisy]
    return [replace(config, seconds=10.0) if arguments.quick else config for config in noisy.DEFAULT]


def _env_prefix(env: dict) -> str:
    return "".join(f"{name}={value} " for name, value in env.items())


def _meta(arguments, plan: Plan, only: set[str]) -> dict:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "bench/run.py " + " ".join(sys.argv[1:]),
        "commit": commit or "unknown",
        "machine": f"{CORES} CPUs, Python {platform.python_version()}",
        "load": environment.load_average(),
        "only": sorted(only),
        "plan": {
            "runs": plan.runs,
            "single": plan.single,
            "wide": plan.wide,
            "slow": plan.slow,
            "fan_out": plan.fan_out,
            "single_emit": plan.single_emit,
            "producers": plan.producers,
            "light_rate": plan.light_rate,
            "light_seconds": plan.light_seconds,
        },
    }


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _only(arguments) -> set[str]:
    chosen = set(arguments.only.split(",")) if arguments.only else ({"noisy"} if arguments.noisy else set(DEFAULT))
    unknown = chosen - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    return chosen | ({"scaling"} if arguments.scaling else set())


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run with small counts, no worker comparison")
    parser.add_argument("--runs", type=int, default=0, help="runs to take the median of (default 3, --quick 1)")
    parser.add_argument("--no-compare", action="store_true", help="skip the comparison of worker commands")
    parser.add_argument("--threads", type=int, default=8, help="threads of the multi-threaded raw client")
    parser.add_argument(
        "--only", help=f"comma-separated scenarios to run, of: {', '.join(SCENARIOS)} (default: all but scaling)"
    )
    parser.add_argument(
        "--scaling", action="store_true", help="also the single-emit headline with 1, 2 and 4 worker processes"
    )
    parser.add_argument(
        "--noisy",
        action="append",
        metavar="RATE,SECONDS,ENDPOINTS,NEIGHBOUR",
        help="a noisy-neighbour configuration (repeatable; implies --only noisy unless --only is "
        "given): events/s, seconds, endpoints per event, the neighbour's answer delay in seconds "
        "or 'hang', e.g. 5,40,5,5 or 5,40,3,hang (default: 5,40,5,5 10,30,10,5 5,40,3,hang)",
    )
    parser.add_argument(
        "--peer-threads",
        type=int,
        default=noisy.PEER_THREADS,
        help=f"threads per naive-peer worker process in the noisy scenario (default {noisy.PEER_THREADS},"
        f" {noisy.PEER_PROCESSES} processes)",
    )
    parser.add_argument(
        "--producers", type=int, default=0, help="producer processes of the single-emit scenarios (default 4)"
    )
    parser.add_argument("--render", metavar="JSON", help="print the table of a saved result (var/bench/last.json)")
    parser.add_argument(
        "--budget",
        type=float,
        default=540.0,
        help="seconds after which the worker comparison starts no new candidate (default 540)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1200.0,
        help="seconds after which no new run or candidate starts (default 1200)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
