"""The noisy neighbour (issue 21): does one slow or hanging endpoint hold back the others' deliveries?

A steady paced stream of single emits (one `emit()` per transaction, DESIGN.md's workload), each
event fanned out to N endpoints of one organisation: N - 1 answer at once, one (the neighbour)
answers after a few seconds (`/delay/<s>/`) or never (`/hang/`: the sender's read timeout ends it).
Reported per configuration, separately for the healthy endpoints and the neighbour: emit → first
arrival p50 / p99 / max (the event's, or the peer order's, `created_at` to the receiver's clock),
how many arrived, and duplicates (the same webhook-id received again by an endpoint that had
answered it; the hanging neighbour's repeats are retries after timeouts, counted apart).

Hookline runs on the README's worker command (one process per core); the naive peer (bench/peer:
one Celery task per delivery) with its own workers afterwards, same receiver, same stream: 2 processes
of 25 threads by default (``--peer-threads``), the 50 threads of issue 21's measurement. That is
enough for the 5 s neighbour at 5 events/s (it holds 25 at a time), exactly the 5 s neighbour's need
at 10 events/s, and too few for a hanging one at 5 events/s (50 for first attempts alone, plus
Celery's retries): there the peer falls behind, and its figures say so.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import environment, producers, report, single, workers
from .peer.workers import PeerWorkers
from .peer.workers import command as peer_command
from .scenarios import percentile

PEER_PROCESSES, PEER_THREADS = 2, 25  # threads per process
READ_TIMEOUT = 10.0  # Hookline's default HOOKLINE["READ_TIMEOUT"] and the peer's requests timeout
SETTLE_SECONDS = 90.0  # after the last emit: the longest wait for the last arrivals


@dataclass(frozen=True)
class Config:
    """``rate`` events/s for ``seconds``, each to ``endpoints`` endpoints; ``neighbour``: its answer delay
    in seconds, or None: it hangs (never answers within the read timeout)."""

    rate: float
    seconds: float
    endpoints: int
    neighbour: float | None

    @property
    def label(self) -> str:
        slow = (
            "one hangs until the read timeout" if self.neighbour is None else f"one answers after {self.neighbour:g} s"
        )
        return f"{self.rate:g} events/s × {self.endpoints} endpoints for {self.seconds:g} s, {slow}"

    @property
    def key(self) -> str:
        return f"{self.rate:g}x{self.endpoints}-{'hang' if self.neighbour is None else f'{self.neighbour:g}s'}"

    def paths(self, kind: str) -> tuple[list[str], str]:
        """(the healthy endpoints' paths, the neighbour's), distinct per kind: a late request of one
        side's run can never count for the other's."""
        prefix = "hl" if kind == "hookline" else "peer"
        neighbour = f"/hang/{prefix}-n0" if self.neighbour is None else f"/delay/{self.neighbour:g}/{prefix}-n0"
        return [f"/fast/{prefix}-h{index}" for index in range(1, self.endpoints)], neighbour


DEFAULT = (Config(5, 40, 5, 5.0), Config(10, 30, 10, 5.0), Config(5, 40, 3, None))


def parse(spec: str) -> Config:
    """``RATE,SECONDS,ENDPOINTS,NEIGHBOUR``: e.g. ``5,40,5,5`` (one answers after 5 s) or ``5,40,3,hang``."""
    try:
        rate, seconds, endpoints, neighbour = spec.split(",")
        config = Config(
            float(rate),
            float(seconds),
            int(endpoints),
            None if neighbour.strip() == "hang" else float(neighbour.rstrip("s")),
        )
    except ValueError:
        raise SystemExit(
            f"--noisy {spec!r}: expected RATE,SECONDS,ENDPOINTS,NEIGHBOUR (seconds or 'hang'), "
            "e.g. 5,40,5,5 or 5,40,3,hang"
        ) from None
    if config.endpoints < 2 or config.rate <= 0 or config.seconds <= 0:
        raise SystemExit(f"--noisy {spec!r}: at least 2 endpoints, a positive rate and duration")
    return config


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_all(
    receiver,
    org,
    configs: list[Config],
    runs: int,
    log_dir: Path,
    hard_end: float,
    notes: list[str],
    peer_threads: int = PEER_THREADS,
) -> list[dict]:
    """``runs`` runs of every configuration: Hookline's workers (started once per run), then the peer's."""
    from bench import scenarios

    measured = []
    for number in range(1, runs + 1):
        if time.monotonic() > hard_end:
            notes.append(f"--max-seconds reached: noisy-neighbour run {number} and later not measured")
            break
        run: dict = {"load": environment.load_average()}
        started = workers.start(
            workers.WorkerSetup("recommended", workers.RECOMMENDED, processes=workers.CORES), log_dir
        )
        try:
            # Connections and imports first, so that the measured stream does not pay for them.
            scenarios.end_to_end(
                receiver,
                org,
                events_count=200,
                endpoints=1,
                path="/fast/",
                limits=scenarios.Limits(),
                worker_pids=workers.pids(started),
            )
            for config in configs:
                _say(f"noisy run {number}: Hookline, {config.label}")
                run[config.key] = {"hookline": measure("hookline", receiver, org, config)}
        finally:
            workers.stop(started)
        for config in configs:
            _say(f"noisy run {number}: naive peer ({PEER_PROCESSES} × {peer_threads} threads), {config.label}")
            single.prepare(receiver, org, "peer", "/fast/")  # its queue purged before its workers start
            with PeerWorkers(
                receiver.url(single.PEER_PATH), log_dir, processes=PEER_PROCESSES, concurrency=peer_threads
            ):
                run[config.key]["peer"] = measure("peer", receiver, org, config)
        measured.append(run)
        _say(
            f"noisy run {number}: "
            + "; ".join(
                f"{config.key}: healthy p99 {run[config.key]['hookline']['healthy_p99']:.0f} ms "
                f"(peer {run[config.key]['peer']['healthy_p99']:.0f} ms)"
                for config in configs
            )
        )
    return measured


@contextlib.contextmanager
def _peer_endpoints(urls: list[str]):
    """The peer's producer (this process) sends each order to every one of ``urls`` (bench/peer/models.py)."""
    os.environ["BENCH_PEER_URLS"] = ",".join(urls)
    try:
        yield
    finally:
        os.environ.pop("BENCH_PEER_URLS", None)


def measure(kind: str, receiver, org, config: Config) -> dict:
    """One configuration for ``kind`` ("hookline" or "peer"), its workers already running."""
    healthy, neighbour = config.paths(kind)
    single.prepare(receiver, org, kind, "/fast/", endpoints=[*healthy, neighbour])
    urls = [receiver.url(path) for path in (*healthy, neighbour)]
    with _peer_endpoints(urls) if kind == "peer" else contextlib.nullcontext():
        produced = producers.run_paced(kind, org, config.rate, config.seconds)
    expected_healthy = produced["count"] * len(healthy)

    def counts() -> tuple[int, int]:
        arrivals = receiver.arrivals()
        return (
            len({(event, path) for event, path, _ in arrivals if path in healthy}),
            len({event for event, path, _ in arrivals if path == neighbour}),
        )

    def complete(got: tuple[int, int]) -> bool:
        return got[0] >= expected_healthy and got[1] >= produced["count"]

    deadline = time.monotonic() + SETTLE_SECONDS
    got = counts()
    while not complete(got) and time.monotonic() < deadline:
        time.sleep(0.5)
        got = counts()
    arrivals = receiver.arrivals()
    result = _figures(kind, arrivals, healthy, neighbour, hangs=config.neighbour is None, events=produced["count"])
    result.update(
        events=produced["count"],
        emit_rate=produced["count"] / max(produced["last"] - produced["first"], 1e-6),
        healthy_expected=expected_healthy,
        complete=complete(got),
    )
    # Requests still waiting on the neighbour end before the next configuration starts.
    time.sleep(READ_TIMEOUT + 1 if config.neighbour is None else config.neighbour + 0.5)
    return result


def _figures(kind: str, arrivals, healthy: list[str], neighbour: str, *, hangs: bool, events: int) -> dict:
    """Latencies of first arrivals; a request that never arrived counts as infinitely late (so a system
    that fell behind shows it in its percentiles instead of leaving its worst cases out)."""
    created = single.created_times(kind)
    first: dict[tuple[str, str], float] = {}
    repeats = {"healthy": 0, "neighbour": 0}
    for event, path, at in sorted(arrivals, key=lambda arrival: arrival[2]):
        if event not in created or (path not in healthy and path != neighbour):
            continue
        if (event, path) in first:
            repeats["neighbour" if path == neighbour else "healthy"] += 1
        else:
            first[(event, path)] = at
    latency = {"healthy": [], "neighbour": []}
    for (event, path), at in first.items():
        latency["neighbour" if path == neighbour else "healthy"].append((at - created[event]) * 1000)
    result = {}
    for group, values in latency.items():
        arrived = len(values)
        values = values + [math.inf] * ((events * len(healthy) if group == "healthy" else events) - arrived)
        result.update(
            {
                f"{group}_p50": percentile(values, 0.5),
                f"{group}_p99": percentile(values, 0.99),
                f"{group}_max": max(values, default=float("nan")),
                f"{group}_arrived": arrived,
            }
        )
    # A neighbour that answered (late, but within the timeout) was never due a second request.
    result["duplicates"] = repeats["healthy"] + (0 if hangs else repeats["neighbour"])
    result["neighbour_retries"] = repeats["neighbour"] if hangs else 0
    return result


def render(measured: list[dict], configs: list[Config], peer_threads: int = PEER_THREADS) -> list[str]:
    """One table per configuration: Hookline and the peer side by side, medians of the runs."""
    if not measured:
        return []
    lines = [
        "",
        "### Isolation: the noisy neighbour (one emit() per transaction, paced; medians, each run in brackets)",
        "",
        f"Hookline: `{workers.RECOMMENDED}`, {workers.CORES} processes; naive peer: "
        f"`{peer_command(peer_threads)}`, {PEER_PROCESSES} processes. Emit → first arrival at the receiver; "
        f"a request that had not arrived {SETTLE_SECONDS:g} s after the last emit counts as never.",
    ]
    rows = [
        ("healthy endpoints: emit → arrival p50", "ms", "healthy_p50"),
        ("healthy endpoints: p99", "ms", "healthy_p99"),
        ("healthy endpoints: max", "ms", "healthy_max"),
        ("the neighbour: emit → first arrival p50", "ms", "neighbour_p50"),
        ("the neighbour: p99", "ms", "neighbour_p99"),
        ("the neighbour: max", "ms", "neighbour_max"),
        ("events emitted", "events", "events"),
        ("healthy deliveries expected", "requests", "healthy_expected"),
        ("healthy deliveries arrived", "requests", "healthy_arrived"),
        ("neighbour: events that reached it", "events", "neighbour_arrived"),
        ("duplicates (same webhook-id again at an endpoint that answered it)", "requests", "duplicates"),
        ("hanging neighbour: repeated requests (retries after timeouts)", "requests", "neighbour_retries"),
    ]
    for config in configs:
        runs = [run[config.key] for run in measured if config.key in run]
        if not runs:
            continue
        lines += ["", f"**{config.label}**", "", "| figure | unit | Hookline | naive peer |", "|---|---|---:|---:|"]
        for label, unit, key in rows:
            cells = []
            for kind in ("hookline", "peer"):
                values = [one[kind][key] for one in runs if kind in one]
                each = ", ".join(_fmt(value) for value in values)
                cells.append(
                    f"{_fmt(report.median(values))} ({each})" if len(values) > 1 else _fmt(report.median(values))
                )
            lines.append(f"| {label} | {unit} | {cells[0]} | {cells[1]} |")
        ratios = [
            one["hookline"]["healthy_p99"] / one["peer"]["healthy_p99"]
            for one in runs
            if "peer" in one and one["peer"]["healthy_p99"]
        ]
        if ratios:
            lines.append(f"| healthy p99: Hookline ÷ peer | × | {report.median(ratios):.2f} | |")
        incomplete = [
            f"run {index + 1} {kind}"
            for index, one in enumerate(runs)
            for kind in ("hookline", "peer")
            if kind in one and not one[kind]["complete"]
        ]
        if incomplete:
            lines.append(
                f"\nNot every request arrived within {SETTLE_SECONDS:g} s of the last emit: {', '.join(incomplete)}."
            )
    return lines


def _fmt(value) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "never"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.1f}"
