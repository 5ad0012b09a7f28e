"""The rate limit's token bucket per endpoint, shared by every worker: a Lua script on Redis, or the endpoint's runtime
row."""

from __future__ import annotations

import logging
import math
import threading

from celery import current_app
from django.db import transaction
from django.utils import timezone
from redis import Redis
from redis.commands.core import Script

from . import wakeup
from .models import EndpointRuntime

logger = logging.getLogger(__name__)

# KEYS[1] the bucket; ARGV rate (tokens/s), burst (capacity), wanted, ahead (seconds of tokens that may be
# taken before they are there: the bucket goes below zero, and later takers wait longer). Redis's clock,
# so that every process agrees; floats travel as strings (Redis truncates Lua numbers in replies).
TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst, wanted, ahead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.max(0, math.min(wanted, math.floor(tokens + ahead * rate)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {granted, string.format('%.6f', tokens)}
"""
_script: tuple[Redis, Script] | None = None
_script_lock = threading.Lock()


def take_tokens(webhook_id: int, rate: int, burst: int, wanted: int, ahead: float = 0.0) -> tuple[int, float]:
    """Up to ``wanted`` tokens from the endpoint's bucket (``rate`` per second, ``burst`` deep, as the
    contract's effective options say), including those due within ``ahead`` seconds: (granted, tokens
    left, below one; negative when tokens were taken ahead). The i-th granted token (from 0) is there
    ``max(0, i + 1 - (left + granted)) / rate`` seconds from now."""
    flag = wakeup.flag()
    client = getattr(flag, "client", None)
    if client is not None:
        try:
            return _take_from_redis(client, webhook_id, rate, burst, wanted, ahead)
        except Exception:  # Redis unreachable: the database holds the limit meanwhile
            logger.warning("Rate limit: Redis failed, using the database", exc_info=True)
    return _take_from_database(webhook_id, rate, burst, wanted, ahead)


def _take_from_redis(
    client: Redis, webhook_id: int, rate: int, burst: int, wanted: int, ahead: float
) -> tuple[int, float]:
    global _script
    with _script_lock:
        if _script is None or _script[0] is not client:
            _script = (client, client.register_script(TOKEN_BUCKET))
        script = _script[1]
    # Per queue, as the wake-up flag: two installations sharing a Redis database (each its own database,
    # so their endpoint ids overlap) never share a bucket.
    key = f"hookline:rate:{current_app.conf.task_default_queue}:{webhook_id}"
    granted, tokens = script(keys=[key], args=[rate, burst, wanted, ahead])
    return int(granted), float(tokens)


def _take_from_database(webhook_id: int, rate: float, burst: int, wanted: int, ahead: float) -> tuple[int, float]:
    """The same bucket in the endpoint's runtime row, under a row lock (brokers without Redis)."""
    rate, capacity = float(rate), float(burst)
    with transaction.atomic():
        locked = (
            EndpointRuntime.objects.select_for_update()
            .filter(pk=webhook_id)
            .values_list("rate_tokens", "rate_checked_at")
        )
        row = locked.first()
        if row is None:  # the endpoint's first token: its runtime row begins here
            EndpointRuntime.objects.get_or_create(webhook_id=webhook_id)
            row = locked.get()
        tokens, at = row
        now = timezone.now()
        tokens = capacity if tokens is None else tokens
        if at is not None:
            tokens = min(capacity, tokens + max(0.0, (now - at).total_seconds()) * rate)
        granted = max(0, min(wanted, math.floor(tokens + ahead * rate)))
        tokens -= granted
        EndpointRuntime.objects.filter(pk=webhook_id).update(rate_tokens=tokens, rate_checked_at=now)
    return granted, tokens
