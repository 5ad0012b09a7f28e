"""Bench-only counters loaded into worker processes (`-I bench.probe`): tasks, SQL, transactions.

Nothing in Hookline imports this. The benchmark adds `-I bench.probe` to the worker command and
sets BENCH_PROBE_DIR; the module then counts, per process, the Celery tasks received and executed
(by name), the SQL statements sent through Django's cursors (execute/executemany, savepoints
included), the transactions committed or rolled back (each is a BEGIN and a COMMIT/ROLLBACK on the
wire), and the connection health checks (`SELECT 1` of CONN_HEALTH_CHECKS, sent on the raw
connection). A daemon thread writes the counts to BENCH_PROBE_DIR/probe-<pid>.json every 0.2 s.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

_COUNTS: Counter = Counter()
_LOCK = threading.Lock()


def _add(name: str) -> None:
    with _LOCK:
        _COUNTS[name] += 1


def _wrap(owner, attribute: str, name: str) -> None:
    original = getattr(owner, attribute)

    def counted(self, *args, **kwargs):
        _add(name)
        return original(self, *args, **kwargs)

    setattr(owner, attribute, counted)


def _install() -> None:
    from celery.signals import task_prerun, task_received
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.backends.utils import CursorWrapper

    _wrap(CursorWrapper, "_execute_with_wrappers", "sql_statements")
    _wrap(BaseDatabaseWrapper, "_commit", "sql_commits")
    _wrap(BaseDatabaseWrapper, "_rollback", "sql_rollbacks")
    _wrap(DatabaseWrapper, "is_usable", "sql_health_checks")

    @task_received.connect(weak=False)
    def _received(request=None, **kwargs):
        _add(f"received:{getattr(request, 'name', '?')}")

    @task_prerun.connect(weak=False)
    def _executed(task=None, **kwargs):
        _add(f"executed:{getattr(task, 'name', '?')}")

    from celery.signals import worker_process_init

    _start_dump()
    worker_process_init.connect(lambda **kwargs: _start_dump(), weak=False)  # prefork children: own thread


def _start_dump() -> None:
    threading.Thread(target=_dump, args=(Path(os.environ["BENCH_PROBE_DIR"]),), daemon=True, name="bench-probe").start()


def _dump(directory: Path) -> None:
    path = directory / f"probe-{os.getpid()}.json"
    while True:
        with _LOCK:
            text = json.dumps(dict(_COUNTS))
        path.with_suffix(".tmp").write_text(text)
        os.replace(path.with_suffix(".tmp"), path)
        time.sleep(0.2)


if os.environ.get("BENCH_PROBE_DIR"):
    _install()
