"""Real `celery worker` (and beat) subprocesses against the test database and the real broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test database)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    """One `celery -A webhooks_project worker` process (with embedded beat if asked), ended by its PID."""

    def __init__(
        self,
        log_path: Path,
        *,
        hookline: dict | None = None,
        beat: bool = False,
        pool: str = "threads",
        concurrency: int = 8,
        extra_env: dict | None = None,
        options: list[str] | None = None,
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "PYTHONPATH": str(ROOT),
            **{f"HOOKLINE_{name}": str(value) for name, value in (hookline or {}).items()},
            **(extra_env or {}),
        }
        # ``options`` replaces the test defaults: the benchmark runs the worker command of the README.
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webhooks_project",
            "worker",
            *(
                options
                or [
                    "--loglevel",
                    "INFO",
                    "--pool",
                    pool,
                    "--concurrency",
                    str(concurrency),
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ]
            ),
            "-n",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        if beat:
            command += ["--beat", "--schedule", str(log_path.with_suffix(".beat"))]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115  (the worker's output for its whole life: closed in stop())
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> WorkerProcess:
        deadline = time.monotonic() + timeout
        while "ready." not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"The worker exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"The worker was not ready within {timeout:g} s:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        return self

    def rss_bytes(self) -> int:
        """Resident memory of the worker and its children (its process group), read from /proc."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) != self.pid:  # fields: state, ppid, pgrp, ...
                    continue
                status = (stat.parent / "status").read_text()
            except (OSError, IndexError, ValueError):  # the process ended while we looked
                continue
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            total += int(rss.group(1)) * 1024 if rss else 0
        return total

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (its own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def end(self) -> None:
        """At teardown: nothing is left to finish gracefully, so SIGKILL (a warm shutdown costs seconds)."""
        self.kill()
        self._log.close()

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class SharedWorker:
    """The default test worker, kept running across consecutive tests that ask for it (the ``worker`` fixture).

    Starting a worker costs seconds (importing Django and Celery); most integration tests want the same
    default one. It is ended before any test that does not ask for it, so no other test ever shares the
    broker queue or the database with a worker it did not start. Its log spans every test it served.
    """

    def __init__(self) -> None:
        self.process: WorkerProcess | None = None
        self._key: tuple | None = None

    def get(self, log_dir: Path) -> WorkerProcess:
        key = (database_url(), settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE)
        if self.process is not None and (self._key != key or self.process.process.poll() is not None):
            self.end()
        if self.process is None:
            self.process = WorkerProcess(log_dir / f"shared-worker-{time.monotonic_ns()}.log").wait_ready()
            self._key = key
        return self.process

    def end(self) -> None:
        if self.process is not None:
            self.process.end()
            self.process = None
