"""Hookline's settings: one ``HOOKLINE`` dict with documented defaults, read through ``hookline_settings``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # Allow loopback/private/link-local targets (local development and tests only).
    "ALLOW_PRIVATE_ADDRESSES": False,
    # Refuse plain http:// endpoint URLs.
    "REQUIRE_HTTPS": False,
    # Attempts per delivery, the first included. 18 = the first try and 17 retries.
    "MAX_ATTEMPTS": 18,
    # Exponential countdown: base * 2**(attempt-1), capped; with the defaults about 3 days in all.
    "RETRY_BASE_DELAY": 10.0,
    "RETRY_MAX_DELAY": 12 * 3600.0,
    # Random spread of each delay, as a fraction (0.2 = +/-20 %).
    "RETRY_JITTER": 0.2,
    # "all": retry every non-2xx; "server-errors": retry only 5xx, 408 and 429.
    "RETRY_POLICY": "all",
    # Seconds. TOTAL_TIMEOUT bounds a whole attempt, including a slowly dripping body.
    "CONNECT_TIMEOUT": 3.0,
    "READ_TIMEOUT": 10.0,
    "TOTAL_TIMEOUT": 30.0,
    # emit() refuses larger payloads; an attempt's log keeps request and response bodies up to this many bytes.
    "MAX_PAYLOAD_BYTES": 256 * 1024,
    "MAX_RESPONSE_BYTES": 64 * 1024,
    # The largest request body a delivery sends (a body template can repeat the payload: without a bound,
    # one endpoint could make every event a 256 MB POST). A template whose expansion could exceed it is
    # refused at save; a body that renders larger (a transformer, a batch) fails its delivery, sending nothing.
    "MAX_REQUEST_BODY_BYTES": 1024 * 1024,
    # Input limits (hookline.limits). JSON nested deeper than this is refused everywhere: parsers and
    # encoders recurse once per level, and no real payload needs 64.
    "MAX_JSON_DEPTH": 64,
    # An endpoint's static headers: receivers answer 431 above about 8 KB of headers in all.
    "MAX_STATIC_HEADERS": 50,
    "MAX_STATIC_HEADERS_BYTES": 8 * 1024,
    # API request bodies above this answer 413 before they are read (it must exceed MAX_PAYLOAD_BYTES).
    "MAX_REQUEST_BYTES": 1024 * 1024,
    # A PEM file of CA certificates trusted in addition to the system's for HTTPS deliveries
    # (a private CA); read when a worker process opens its connection pools. "" = the system's only.
    "EXTRA_CA_BUNDLE": "",
    # Seconds the previous secret keeps signing after a rotation.
    "SECRET_ROTATION_GRACE": 24 * 3600,
    # Outbound proxy URL for all deliveries ("" = direct); an endpoint may override it.
    "PROXY": "",
    # Key material for encrypting endpoint secrets at rest; "" derives it from SECRET_KEY.
    "ENCRYPTION_KEY": "",
    # Seconds an idempotency key keeps returning the first event.
    "IDEMPOTENCY_WINDOW": 24 * 3600,
    # Sweeper: how often beat runs it, and how long an event or due delivery may wait
    # before it is treated as stranded (broker outage, lost message, killed worker).
    "SWEEP_INTERVAL": 30.0,
    "SWEEP_AFTER": 60.0,
    # Scheduled events (events.scheduling): how often beat looks for due schedules, and how late
    # (seconds) a run may still be emitted as on time; later ones are missed runs (skip or catch up once).
    "SCHEDULE_INTERVAL": 15.0,
    "SCHEDULE_GRACE": 300.0,
    # Every worker process checks the database this often (seconds; 0 = never) for events and due
    # deliveries that waited longer than STRANDED_AFTER without a wake-up (broker outage, lost
    # message, a retry beyond MAX_COUNTDOWN) and takes them itself: recovery does not wait for beat.
    "WORKER_CHECK_INTERVAL": 2.0,
    "STRANDED_AFTER": 2.0,
    # Seconds after which the health report (manage.py hookline_health, the delivery log in the admin,
    # a log warning) calls the sweeper or the workers' periodic check stale, and a waiting event or a
    # due delivery overdue: above SWEEP_AFTER + SWEEP_INTERVAL, the latest both nets take them.
    "HEALTH_STALE_AFTER": 120.0,
    # Seconds a worker owns a claimed delivery; after that the sweeper may hand it to another.
    "CLAIM_LEASE": 120.0,
    # Retries due within this many seconds are scheduled as Celery countdowns; later ones are
    # left to the workers' periodic check (Redis redelivers ETA messages after its visibility timeout).
    "MAX_COUNTDOWN": 600.0,
    # Deliveries a worker's run claims at once (also the events it fans out at once), and requests
    # in flight per worker process: the sender threads. A run claims only what they have room for
    # and never waits for a request (deliveries/senders.py), so any value works; fewer only queue more.
    "DELIVERY_BATCH_SIZE": 50,
    "SEND_CONCURRENCY": 400,
    # Requests in flight at once to one endpoint, per worker process, at most (an endpoint's contract may
    # set its own policy.max_in_flight). Within it an endpoint gets its fair share of the SEND_CONCURRENCY
    # sender slots: half of what the other endpoints leave free, so one with a backlog and a slow receiver
    # never takes every slot; what is over waits in the database (deliveries/senders.py).
    "MAX_IN_FLIGHT_PER_ENDPOINT": 200,
    # Circuit breaker (deliveries/control.py): consecutive failed attempts that open an endpoint's
    # breaker (0 = off; an endpoint may set its own), and seconds it stays open before one probe.
    # Off by default: a breaker changes when retries happen, so an installation opts in.
    "BREAKER_THRESHOLD": 0,
    "BREAKER_COOLDOWN": 60.0,
    # Seconds a FIFO endpoint's deliveries behind the head wait before they look again; the head's
    # end wakes its successor at once, so this only bounds a lost wake-up.
    "FIFO_RECHECK": 30.0,
    # Seconds ahead a worker takes a rate-limited endpoint's next tokens: the deliveries they are for
    # wait in the worker (no sender thread held) and go out at their token's time; a released delivery
    # and the wake-up that takes it again come late (steps of 0.1 s, the claim), and a bucket of one
    # token loses each such lateness for good (0 = release every delivery over the limit).
    "RATE_LIMIT_WAIT": 1.0,
    # Seconds the in-process event-type catalog is trusted before it is re-read.
    "CATALOG_TTL": 30.0,
    # REST API rate limits per user (DRF rate strings: "120/minute"; "" = no limit): every write
    # (POST/PUT/PATCH/DELETE) except emitting, and POST /api/events/.
    "API_WRITE_RATE": "120/minute",
    "API_EMIT_RATE": "3000/minute",
    # Retention, in days (0 = keep forever): finished deliveries with their attempts, by outcome
    # (cancelled ones count as succeeded), and events once none of their deliveries is left.
    # Pending deliveries are never pruned. The pruner runs on beat every PRUNE_INTERVAL seconds and
    # deletes PRUNE_BATCH deliveries per short transaction (docs/performance.md: "Retention").
    "RETENTION_SUCCEEDED_DAYS": 7.0,
    "RETENTION_FAILED_DAYS": 30.0,
    "RETENTION_EVENTS_DAYS": 7.0,
    # Alerts (deliveries/alerts Notification rows): few, and the history operators read ("when did this
    # endpoint last fail?"); kept longer. Never shorter than ALERT_WINDOW, or the window would forget.
    "RETENTION_NOTIFICATIONS_DAYS": 90.0,
    "PRUNE_INTERVAL": 3600.0,
    "PRUNE_BATCH": 1000,
    # Bearer token that may read /metrics besides staff sessions ("" = staff sessions only).
    "METRICS_TOKEN": "",
    # "text" (plain lines) or "json" (one JSON object per line, with the delivery's fields).
    "LOG_FORMAT": "text",
    # --- Operational alerts (deliveries/alerts, docs/operations-alerts.md) ----------------------
    # The master switch, then one per channel: hookline.* operational events to the endpoints that
    # name them, email to the endpoint's and its organisation's contact addresses, Django signals.
    "ALERTS": True,
    "ALERT_EVENTS": True,
    "ALERT_EMAILS": True,
    "ALERT_SIGNALS": True,
    # An endpoint is "failing" (the first warning, long before it is disabled) after this many
    # consecutive failed attempts, or once its first failure is this many seconds old, whichever
    # comes first (0 = that rule off). 5 attempts are about 5 minutes of the default schedule.
    "ALERT_FAILING_ATTEMPTS": 5,
    "ALERT_FAILING_AFTER": 1800.0,
    # At most one alert per endpoint per kind in this many seconds, on every channel: a storm of
    # exhausted deliveries is one message an hour, not thousands.
    "ALERT_WINDOW": 3600.0,
    # Beat's check for rotated secrets: warn when the previous secret stops signing within
    # ALERT_SECRET_NOTICE seconds; the check runs every ALERT_CHECK_INTERVAL seconds (and resends
    # alert emails that a broker outage kept from going out).
    "ALERT_SECRET_NOTICE": 2 * 3600.0,
    "ALERT_CHECK_INTERVAL": 300.0,
    # The site's address, for the links in alert emails (health page, re-enable): e.g.
    # "https://hooks.example.com". Empty: the links are relative (a system check warns).
    "SITE_URL": "",
    # Sender of alert emails ("" = Django's DEFAULT_FROM_EMAIL), and seconds a re-enable link works.
    "ALERT_FROM_EMAIL": "",
    "ALERT_LINK_MAX_AGE": 7 * 24 * 3600,
}


class HooklineSettings:
    """Attribute access to ``settings.HOOKLINE`` with DEFAULTS filled in; reloaded on setting_changed."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._cache: dict[str, Any] | None = None
        self.generation = 0  # counts reloads: values derived from the settings are cached per generation

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "HOOKLINE", {}) or {}

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Invalid Hookline setting: {name!r}")
        if self._cache is None:
            self._cache = {**self.defaults, **self.user_settings}
        return self._cache[name]

    def reload(self) -> None:
        self._cache = None
        self.generation += 1


hookline_settings = HooklineSettings(DEFAULTS)


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "HOOKLINE":
        hookline_settings.reload()


setting_changed.connect(_reload)
