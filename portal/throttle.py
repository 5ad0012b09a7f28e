"""A fixed-window counter per organisation in the cache: how many test sends a portal may start."""

from __future__ import annotations

import time

from django.core.cache import cache

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """ "10/m" -> (10, 60); "" -> None (no limit)."""
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), PERIODS[period[0]]


def allow(scope: str, ident: object, rate: str) -> bool:
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    limit, period = parsed
    key = f"hookline-portal:{scope}:{ident}:{int(time.time() // period)}"
    cache.add(key, 0, timeout=period + 1)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the key expired between add and incr: a new window
        cache.set(key, 1, timeout=period + 1)
        return True
