"""Celery settings that depend on the broker (filesystem, Redis, RabbitMQ), from its URL: one home for all three."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AMQP_SCHEMES = {"amqp", "amqps", "pyamqp"}


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower()


def celery_settings(url: str, *, var_dir: Path, visibility_timeout: int = 3600) -> dict[str, Any]:
    """The ``CELERY_*`` settings (without the prefix, lower-case) for the broker at ``url``."""
    kind = scheme(url)
    if kind == "filesystem":
        folders = {name: var_dir / "broker" / name for name in ("queue", "processed", "control")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "broker_transport_options": {
                "data_folder_in": str(folders["queue"]),
                "data_folder_out": str(folders["queue"]),
                "processed_folder": str(folders["processed"]),
                # The exchange tables; kombu's default is ./control, relative to whichever directory the
                # worker was started in (which is how two of them once got committed).
                "control_folder": str(folders["control"]),
                "store_processed": False,
            }
        }
    if kind in AMQP_SCHEMES:
        return {
            # Quorum queues are replicated and durable: a node restart or loss keeps the queued
            # wake-ups. Celery consumes them with per-consumer QoS (they have no global QoS).
            "task_default_queue_type": "quorum",
            # On a topic exchange, Celery delays countdown wake-ups in RabbitMQ's own TTL queues
            # (native delayed delivery): no visibility timeout is involved, and no ETA message is
            # held unacknowledged by a worker past RabbitMQ's consumer_timeout (30 min by default).
            "task_default_exchange_type": "topic",
            "broker_transport_options": {
                # Publisher confirms: a publish returns only once RabbitMQ has taken the message.
                "confirm_publish": True,
                # As for Redis: emit()'s outbox must fail fast while the broker is down.
                "max_retries": 0,
            },
        }
    return {
        "broker_transport_options": {
            # Messages of a killed worker come back after this; the workers' periodic check heals sooner.
            "visibility_timeout": visibility_timeout,
            # Opening a broker connection is tried once, not retried for broker_connection_timeout
            # (kombu's default: ~6 s of sleeps). emit() publishes with retry=False inside the
            # caller's request and must fail fast while the broker is down (the workers' periodic
            # check finds the events); other publishes keep their retry policy, the worker its reconnect loop.
            "max_retries": 0,
        }
    }
