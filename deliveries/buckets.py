"""The rate limit's token bucket per endpoint, shared by every worker: a Lua script on Redis, or the endpoint's row."""
from __future__ import annotations

import logging
import math
import threading

from django.db import transaction
from django.utils import timezone

from hooks.models import Webhook

from . import wakeup

logger = logging.getLogger(__name__)

# KEYS[1] the bucket; ARGV rate (tokens/s), burst (capacity), wanted. Redis's clock, so that every
# process agrees; floats travel as strings (Redis truncates Lua numbers in replies).
TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, string.format('%.6f', tokens)}
"""
_script: tuple[object, object] | None = None
_script_lock = threading.Lock()


def burst(webhook: Webhook) -> int:
    return webhook.rate_limit_burst or max(1, webhook.rate_limit)


def take_tokens(webhook: Webhook, wanted: int) -> tuple[int, float]:
    """Up to ``wanted`` tokens from the endpoint's bucket: (granted, tokens left, a fraction below one)."""
    flag = wakeup.flag()
    client = getattr(flag, "client", None)
    if client is not None:
        try:
            return _take_from_redis(client, webhook, wanted)
        except Exception:  # Redis unreachable: the database holds the limit meanwhile
            logger.warning("Rate limit: Redis failed, using the database", exc_info=True)
    return _take_from_database(webhook, wanted)


def _take_from_redis(client, webhook: Webhook, wanted: int) -> tuple[int, float]:
    global _script
    with _script_lock:
        if _script is None or _script[0] is not client:
            _script = (client, client.register_script(TOKEN_BUCKET))
        script = _script[1]
    granted, tokens = script(keys=[f"hookline:rate:{webhook.pk}"], args=[webhook.rate_limit, burst(webhook), wanted])
    return int(granted), float(tokens)


def _take_from_database(webhook: Webhook, wanted: int) -> tuple[int, float]:
    """The same bucket in the endpoint's row, under a row lock (brokers without Redis)."""
    rate, capacity = float(webhook.rate_limit), float(burst(webhook))
    with transaction.atomic():
        tokens, at = Webhook.objects.select_for_update().filter(pk=webhook.pk).values_list(
            "rate_tokens", "rate_checked_at",
        ).get()
        now = timezone.now()
        tokens = capacity if tokens is None else tokens
        if at is not None:
            tokens = min(capacity, tokens + max(0.0, (now - at).total_seconds()) * rate)
        granted = min(wanted, math.floor(tokens))
        tokens -= granted
        Webhook.objects.filter(pk=webhook.pk).update(rate_tokens=tokens, rate_checked_at=now)
    return granted, tokens
