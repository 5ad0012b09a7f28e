"""Private brokers the tests may take down and bring back (a redis-server, a RabbitMQ vhost), and switching brokers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """``redis-server`` on a free loopback port, without persistence: a restart loses every message."""

    kind = "redis"

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

    def start(self, timeout: float = 15.0) -> RedisServer:
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start on port {self.port}:\n{self.log_path.read_text()[-2000:]}"
                )
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


RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


class RabbitMQVhost:
    """A vhost of this test's own on the machine's RabbitMQ, reached through a TCP forwarder the test can cut.

    The machine's RabbitMQ is shared by other test runs and is never restarted: ``stop()`` closes the
    forwarder (every connection through it drops, new ones are refused, as when the node is down) and
    ``start()`` opens it again on the same port. The vhost, its queues and its messages are deleted at
    the end (``remove()``). Creating a vhost needs ``rabbitmqctl`` (root on these machines).
    """

    kind = "rabbitmq"

    def __init__(self, log_path: Path) -> None:
        upstream = urlsplit(RABBITMQ_URL)
        self.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 5672)
        self.credentials = f"{upstream.username or 'guest'}:{upstream.password or 'guest'}"
        self.name = f"hookline-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.log_path = log_path
        self.forwarder = TcpForwarder(self.upstream)

    @staticmethod
    def available() -> bool:
        if shutil.which("rabbitmqctl") is None:
            return False
        upstream = urlsplit(RABBITMQ_URL)
        try:
            socket.create_connection((upstream.hostname or "127.0.0.1", upstream.port or 5672), timeout=2).close()
        except OSError:
            return False
        return True

    @property
    def url(self) -> str:
        return f"amqp://{self.credentials}@127.0.0.1:{self.forwarder.port}/{self.name}"

    def create(self) -> RabbitMQVhost:
        user = self.credentials.split(":", 1)[0]
        self._ctl("add_vhost", self.name)
        self._ctl("set_permissions", "-p", self.name, user, ".*", ".*", ".*")
        return self.start()

    def start(self) -> RabbitMQVhost:
        self.forwarder.open()
        return self

    def stop(self) -> None:
        self.forwarder.close()

    def remove(self) -> None:
        self.forwarder.close()
        self._ctl("delete_vhost", self.name)

    def _ctl(self, *args: str) -> None:
        with open(self.log_path, "ab") as log:
            subprocess.run(["rabbitmqctl", *args], stdout=log, stderr=subprocess.STDOUT, timeout=60, check=True)


class TcpForwarder:
    """Forwards 127.0.0.1:<port> to ``upstream``; ``close()`` drops every connection, ``open()`` listens again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # closed meanwhile
                    client.close()
                    upstream.close()
                    return
                self._sockets |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            with self._lock:
                self._sockets -= {source, target}


def delete_queue(url: str, queue: str) -> None:
    """Delete ``queue`` on the broker at ``url`` (a RabbitMQ quorum queue outlives its consumers)."""
    from kombu import Connection

    with contextlib.suppress(Exception), Connection(url, connect_timeout=5) as connection:
        connection.default_channel.queue_delete(queue)


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
    from django.conf import settings
    from kombu import pools

    from webhooks_project.brokers import celery_settings

    if environment is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = environment
    # The broker's own options (quorum queues and confirms on RabbitMQ), as settings.py gives a worker.
    options = {
        "task_default_queue_type": "classic",
        "task_default_exchange_type": "direct",
        **celery_settings(url, var_dir=Path(settings.BASE_DIR) / "var"),
    }
    app.conf.update(broker_url=url, **options)
    # Close and forget every pooled connection (kombu keeps a global registry of pools by URL),
    # and the producer pool and queue declarations Celery caches, as Celery itself does after a fork.
    pools.reset()
    app._pool = None
    app.__dict__.pop("amqp", None)
