"""Per-delivery cost counters read from outside the workers: the probe's files and Redis commandstats."""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

from . import environment

PROBE_DIR = environment.ROOT / "var" / "bench" / "probe"


def probe_snapshot(pids: list[int]) -> dict[str, int]:
    """The sum of the counters written by bench/probe.py in these worker processes."""
    total: dict[str, int] = {}
    for pid in pids:
        try:
            counts = json.loads((PROBE_DIR / f"probe-{pid}.json").read_text())
        except (OSError, ValueError):
            continue
        for name, value in counts.items():
            total[name] = total.get(name, 0) + value
    return total


def settled_probe(pids: list[int], wait: float = 0.6) -> dict[str, int]:
    time.sleep(wait)  # the probe writes every 0.2 s
    return probe_snapshot(pids)


def probe_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after.get(name, 0) - before.get(name, 0) for name in after}


def redis_commands() -> int:
    """Commands the whole Redis server has processed (INFO commandstats): every client, every db."""
    import redis

    url = urlparse(environment.BROKER_URL)
    client = redis.Redis(host=url.hostname or "127.0.0.1", port=url.port or 6379)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return sum(int(value["calls"]) for value in stats.values())


def redis_idle_rate(seconds: float) -> float:
    """Server-wide commands per second while the benchmark sends nothing (its idle workers and the
    other users of the shared Redis): the baseline subtracted from a scenario's count."""
    before, started = redis_commands(), time.monotonic()
    time.sleep(seconds)
    return (redis_commands() - before - 1) / (time.monotonic() - started)  # -1: our own INFO


def per_delivery(probe: dict[str, int], deliveries: int) -> dict[str, float]:
    """Messages and SQL statements per delivery from a probe delta."""
    n = max(deliveries, 1)
    received = sum(value for name, value in probe.items() if name.startswith("received:"))
    executed = sum(value for name, value in probe.items() if name.startswith("executed:"))
    transactions = probe.get("sql_commits", 0) + probe.get("sql_rollbacks", 0)
    statements = probe.get("sql_statements", 0) + 2 * transactions + probe.get("sql_health_checks", 0)
    return {
        "messages_received": received / n,
        "messages_executed": executed / n,
        "by_task": {name.split(":", 1)[1]: value / n for name, value in probe.items() if name.startswith("executed:")},
        "sql_per_delivery": statements / n,
        "sql_django_per_delivery": probe.get("sql_statements", 0) / n,
        "transactions_per_delivery": transactions / n,
        "health_checks_per_delivery": probe.get("sql_health_checks", 0) / n,
    }
