"""Start and stop the naive peer's worker processes (`celery -A bench.peer.app worker ...`), by PID."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

COMMAND = "celery -A bench.peer.app worker --pool threads --concurrency 8 --loglevel INFO"
PROCESSES = 2


def command(concurrency: int = 8) -> str:
    """The peer's worker command with ``concurrency`` threads (COMMAND is the 8-thread one)."""
    return COMMAND.replace("--concurrency 8", f"--concurrency {concurrency}")


class PeerWorkers:
    """``processes`` peer workers POSTing to ``url``, each with the benchmark's probe loaded."""

    def __init__(
        self, url: str, log_dir: Path, processes: int = PROCESSES, probe_dir: Path | None = None, concurrency: int = 8
    ) -> None:
        from bench import environment

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.peer.settings",
            "BENCH_PEER_URL": url,
            "BENCH_BROKER_URL": environment.BROKER_URL,
            "PYTHONPATH": str(environment.ROOT),
        }
        if probe_dir:
            env["BENCH_PROBE_DIR"] = str(probe_dir)
        words = shlex.split(command(concurrency))[1:]
        self.logs = [log_dir / f"peer-worker-{index}.log" for index in range(processes)]
        self.processes = []
        for index, log in enumerate(self.logs):
            with open(log, "wb") as handle:
                self.processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "celery",
                            *words,
                            "-I",
                            "bench.probe",
                            "-n",
                            f"peer{index}-{os.getpid()}@%h",
                        ],
                        cwd=environment.ROOT,
                        env=env,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for process, log in zip(self.processes, self.logs, strict=True):
            while "ready." not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"peer worker not ready:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def __enter__(self) -> PeerWorkers:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
