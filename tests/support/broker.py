"""A private redis-server the tests may stop and restart, and switching this process's Celery broker."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """``redis-server`` on a free loopback port, without persistence: a restart loses every message."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> "RedisServer":
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--daemonize", "no"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """End the server (SIGTERM, SIGKILL if it lingers): clients see their connections drop."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Publish from this process to ``url`` for the duration (the test process is the "web side")."""
    from webhooks_project.celery import app

    # Celery reads the CELERY_BROKER_URL environment variable before its own setting.
    previous = os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url
    _switch(app, url, url)
    try:
        yield
    finally:
        _switch(app, *previous)


def _switch(app, environment: str | None, url: str) -> None:
    from kombu import pools

    if environment is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = environment
    app.conf.broker_url = url
    # Close and forget every pooled connection (kombu keeps a global registry of pools by URL),
    # and the producer pool Celery caches, as Celery itself does after a fork.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
