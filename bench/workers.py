"""Hookline's worker processes as the benchmark starts them: the README's command, and the candidates."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from . import counters, environment

# What the README recommends (section "Performance"): this command once per CPU core. The
# benchmark runs it, and measures it against the other candidates.
RECOMMENDED = "celery -A webhooks_project worker --pool threads --concurrency 8 --loglevel INFO"
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class WorkerSetup:
    label: str
    command: str
    processes: int = 1
    env: tuple[tuple[str, str], ...] = ()  # HOOKLINE_* overrides, as an operator would set them


def _command(pool: str, concurrency: int) -> str:
    return f"celery -A webhooks_project worker --pool {pool} --concurrency {concurrency} --loglevel INFO"


CANDIDATES = [
    WorkerSetup(f"prefork, {CORES} children (Celery's default here)", _command("prefork", CORES)),
    WorkerSetup(f"prefork, {2 * CORES} children", _command("prefork", 2 * CORES)),
    WorkerSetup("threads 8, one process", RECOMMENDED),
    WorkerSetup("threads 16, one process", _command("threads", 16)),
    WorkerSetup(
        "threads 8, one process, former defaults DELIVERY_BATCH_SIZE=20, SEND_CONCURRENCY=32",
        RECOMMENDED,
        env=(("HOOKLINE_DELIVERY_BATCH_SIZE", "20"), ("HOOKLINE_SEND_CONCURRENCY", "32")),
    ),
    WorkerSetup(f"threads 4, {CORES} processes", _command("threads", 4), processes=CORES),
    WorkerSetup(f"threads 8, {CORES} processes (recommended)", RECOMMENDED, processes=CORES),
]


def start(setup: WorkerSetup, log_dir: Path):
    """The command's processes, each with bench/probe.py loaded (`-I bench.probe`: counters only)."""
    from tests.support.workers import WorkerProcess

    words = shlex.split(setup.command)
    assert words[:4] == ["celery", "-A", "webhooks_project", "worker"], setup.command
    slug = "-".join(words[4:]).replace("--", "")
    counters.PROBE_DIR.mkdir(parents=True, exist_ok=True)
    workers = []
    try:
        for index in range(setup.processes):
            workers.append(
                WorkerProcess(
                    log_dir / f"worker{slug}-{index}.log",
                    options=[*words[4:], "-I", "bench.probe"],
                    extra_env={
                        "DJANGO_SETTINGS_MODULE": "webhooks_project.settings",
                        "BENCH_PROBE_DIR": str(counters.PROBE_DIR),
                        **dict(setup.env),
                    },
                )
            )
        for worker in workers:
            worker.wait_ready(timeout=120)
    except BaseException:
        stop(workers)
        raise
    return workers


def stop(workers) -> None:
    for worker in workers:
        worker.stop(timeout=30)


def pids(workers) -> list[int]:
    return [pid for worker in workers for pid in environment.process_tree(worker.pid)]
