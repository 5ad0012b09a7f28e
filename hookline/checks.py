"""System checks that fail fast on a bad HOOKLINE setting (registered when the events app is ready)."""

import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.core import checks
from django.core.checks import CheckMessage

from .conf import DEFAULTS, hookline_settings


@checks.register()
def check_hookline_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[checks.CheckMessage] = []
    unknown = set(hookline_settings.user_settings) - set(DEFAULTS)
    if unknown:
        errors.append(checks.Error(f"Unknown HOOKLINE keys: {', '.join(sorted(unknown))}", id="hookline.E001"))
    if hookline_settings.RETRY_POLICY not in {"all", "server-errors"}:
        errors.append(checks.Error("HOOKLINE['RETRY_POLICY'] must be 'all' or 'server-errors'", id="hookline.E002"))
    if hookline_settings.MAX_ATTEMPTS < 1:
        errors.append(checks.Error("HOOKLINE['MAX_ATTEMPTS'] must be at least 1", id="hookline.E003"))
    for name in ("CONNECT_TIMEOUT", "READ_TIMEOUT", "TOTAL_TIMEOUT", "RETRY_BASE_DELAY", "RETRY_MAX_DELAY"):
        if getattr(hookline_settings, name) <= 0:
            errors.append(checks.Error(f"HOOKLINE['{name}'] must be positive", id="hookline.E004"))
    proxy = urlsplit(hookline_settings.PROXY or "")
    if hookline_settings.PROXY and (proxy.scheme not in {"http", "https"} or not proxy.hostname):
        # The operator's proxy is trusted (it may be on a private network), but it must be a proxy URL.
        errors.append(
            checks.Error(
                "HOOKLINE['PROXY'] must be an http:// or https:// URL with a host, e.g. http://egress.internal:3128",
                id="hookline.E010",
            )
        )
    if hookline_settings.CLAIM_LEASE <= hookline_settings.TOTAL_TIMEOUT + 1:
        errors.append(
            checks.Error(
                "HOOKLINE['CLAIM_LEASE'] must exceed TOTAL_TIMEOUT by more than a second: a delivery's claim "
                "has to outlast its request, or the sweeper hands it to another worker mid-send",
                id="hookline.E011",
            )
        )
    errors += _limit_errors()
    if hookline_settings.LOG_FORMAT not in {"text", "json"}:
        errors.append(checks.Error("HOOKLINE['LOG_FORMAT'] must be 'text' or 'json'", id="hookline.E015"))
    if hookline_settings.PRUNE_BATCH < 1 or hookline_settings.PRUNE_INTERVAL <= 0:
        errors.append(
            checks.Error("HOOKLINE['PRUNE_BATCH'] must be at least 1 and PRUNE_INTERVAL positive", id="hookline.E016")
        )
    errors += _alert_errors()
    return errors


def _alert_errors() -> list[checks.CheckMessage]:
    """Operational alerts (deliveries/alerts): windows and intervals positive, thresholds not negative."""
    errors: list[checks.CheckMessage] = []
    for name in ("ALERT_WINDOW", "ALERT_CHECK_INTERVAL", "ALERT_LINK_MAX_AGE"):
        if getattr(hookline_settings, name) <= 0:
            errors.append(checks.Error(f"HOOKLINE['{name}'] must be positive", id="hookline.E017"))
    days = hookline_settings.RETENTION_NOTIFICATIONS_DAYS
    if 0 < days * 86400 < hookline_settings.ALERT_WINDOW:
        errors.append(
            checks.Error(
                "HOOKLINE['RETENTION_NOTIFICATIONS_DAYS'] must be 0 (keep forever) or at least ALERT_WINDOW: "
                "the alert window is read from the notifications kept",
                id="hookline.E019",
            )
        )
    for name in ("ALERT_FAILING_ATTEMPTS", "ALERT_FAILING_AFTER", "ALERT_SECRET_NOTICE"):
        if getattr(hookline_settings, name) < 0:
            errors.append(checks.Error(f"HOOKLINE['{name}'] must be 0 (off) or more", id="hookline.E018"))
    return errors


def _limit_errors() -> list[checks.CheckMessage]:
    """The input limits and the extra CA bundle (a bad one would fail every HTTPS delivery, not the deploy)."""
    errors: list[checks.CheckMessage] = []
    for name in ("MAX_JSON_DEPTH", "MAX_STATIC_HEADERS", "MAX_STATIC_HEADERS_BYTES", "MAX_REQUEST_BYTES"):
        if getattr(hookline_settings, name) < 1:
            errors.append(checks.Error(f"HOOKLINE['{name}'] must be at least 1", id="hookline.E012"))
    if hookline_settings.MAX_REQUEST_BYTES <= hookline_settings.MAX_PAYLOAD_BYTES:
        errors.append(
            checks.Error(
                "HOOKLINE['MAX_REQUEST_BYTES'] must exceed MAX_PAYLOAD_BYTES: an API body carries a payload and more",
                id="hookline.E013",
            )
        )
    if hookline_settings.MAX_REQUEST_BODY_BYTES <= hookline_settings.MAX_PAYLOAD_BYTES:
        errors.append(
            checks.Error(
                "HOOKLINE['MAX_REQUEST_BODY_BYTES'] must exceed MAX_PAYLOAD_BYTES: a delivery's body carries a payload "
                "and its envelope",
                id="hookline.E017",
            )
        )
    bundle = hookline_settings.EXTRA_CA_BUNDLE
    if bundle:
        try:
            ssl.create_default_context(cafile=bundle)
        except (OSError, ssl.SSLError) as exc:
            errors.append(
                checks.Error(
                    f"HOOKLINE['EXTRA_CA_BUNDLE'] ({bundle}) is not a readable PEM file of CA certificates: {exc}",
                    id="hookline.E014",
                )
            )
    return errors


@checks.register()
def check_api_rates(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Fail fast on a rate DRF cannot parse (it would fail every throttled request instead)."""
    errors: list[checks.CheckMessage] = []
    for name in ("API_WRITE_RATE", "API_EMIT_RATE"):
        rate = getattr(hookline_settings, name)
        if rate and not _is_rate(str(rate)):
            errors.append(
                checks.Error(
                    f"HOOKLINE['{name}'] must look like '120/minute' (s, m, h or d) or be empty for no limit; "
                    f"got {rate!r}",
                    id="hookline.E005",
                )
            )
    return errors


def _is_rate(rate: str) -> bool:
    # DRF reads only the period's first letter ("120/minute", "5/s").
    number, _, period = rate.partition("/")
    return number.isdigit() and period in {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


@checks.register()
def check_console_installed(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Hookline's admin and API moved to the console app: a site that upgraded without adding it would lose them
    quietly."""
    from django.apps import apps

    from .packages import is_own_app

    if not apps.is_installed("deliveries"):
        return []
    console = next((config for config in apps.get_app_configs() if config.name == "console"), None)
    if console is None:
        return [
            checks.Warning(
                "Hookline's admin pages, dashboards and REST API are in its 'console' app, which is not installed: "
                "the admin shows no Hookline model and the API docs have no template.",
                hint="Add 'console' to INSTALLED_APPS after 'deliveries' and include('console.api.urls') "
                "(docs/upgrading.md); silence hookline.W040 if this site runs Hookline without its admin and API.",
                id="hookline.W040",
            )
        ]
    if not is_own_app(console.path):
        return [
            checks.Warning(
                f"The installed app 'console' is {console.path}, not Hookline's: Hookline's admin pages and API "
                "(the package 'console') cannot be installed beside it.",
                hint="Rename your package (e.g. 'console' -> 'shop_console') to use Hookline's admin and API.",
                id="hookline.W041",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_deployment(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy`: settings that are fine for development and wrong in production."""
    from django.conf import settings

    warnings: list[checks.CheckMessage] = []
    if hookline_settings.ALLOW_PRIVATE_ADDRESSES and not settings.DEBUG:
        warnings.append(
            checks.Warning(
                "HOOKLINE['ALLOW_PRIVATE_ADDRESSES'] is on with DEBUG off: endpoints may target loopback, private and "
                "link-local addresses (e.g. 169.254.169.254, your database), so anyone who can add an endpoint can "
                "make the workers send requests into your network.",
                hint=(
                    "Turn it off in production (HOOKLINE_ALLOW_PRIVATE_ADDRESSES=false); "
                    "it is for development and tests."
                ),
                id="hookline.W030",
            )
        )
    if not hookline_settings.ENCRYPTION_KEY:
        warnings.append(
            checks.Warning(
                "Endpoint secrets are encrypted with a key derived from SECRET_KEY: rotating SECRET_KEY makes every "
                "stored secret and Basic-auth password unreadable.",
                hint="Set HOOKLINE['ENCRYPTION_KEY'] (HOOKLINE_ENCRYPTION_KEY) to its own random value, then run "
                "HOOKLINE_OLD_ENCRYPTION_KEY=<your SECRET_KEY> manage.py reencrypt_secrets once.",
                id="hookline.W031",
            )
        )
    if hookline_settings.ALERTS and hookline_settings.ALERT_EMAILS and not hookline_settings.SITE_URL:
        warnings.append(
            checks.Warning(
                "HOOKLINE['SITE_URL'] is empty: the links in alert emails (endpoint health, re-enable) are relative "
                "and do not open from a mail client.",
                hint="Set HOOKLINE_SITE_URL to the site's public address, e.g. https://hooks.example.com.",
                id="hookline.W032",
            )
        )
    return warnings
