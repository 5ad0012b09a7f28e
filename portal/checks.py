"""System checks for HOOKLINE_PORTAL: fail at start-up, not on a customer's first click."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import import_string

from .conf import DEFAULTS, portal_settings
from .throttle import parse_rate


def check_portal_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors = []
    unknown = set(portal_settings.user_settings) - set(DEFAULTS)
    if unknown:
        errors.append(checks.Error(f"Unknown HOOKLINE_PORTAL keys: {', '.join(sorted(unknown))}", id="portal.E001"))
    for name in ("ORGANISATION", "PERMISSION"):
        path = getattr(portal_settings, name)
        if path:
            try:
                import_string(path)
            except ImportError as exc:
                errors.append(
                    checks.Error(f"HOOKLINE_PORTAL['{name}'] = {path!r} cannot be imported: {exc}", id="portal.E002")
                )
    try:
        parse_rate(portal_settings.TEST_SEND_RATE)
    except (ValueError, KeyError, IndexError):
        errors.append(
            checks.Error(
                "HOOKLINE_PORTAL['TEST_SEND_RATE'] must look like '10/m' (s, m, h or d), or ''", id="portal.E003"
            )
        )
    if portal_settings.LINK_TTL <= 0 or portal_settings.SESSION_AGE <= 0:
        errors.append(
            checks.Error("HOOKLINE_PORTAL['LINK_TTL'] and ['SESSION_AGE'] must be positive", id="portal.E004")
        )
    home = portal_settings.HOME_URL
    if home and not (isinstance(home, str) and home.startswith(("/", "http://", "https://"))):
        errors.append(checks.Error("HOOKLINE_PORTAL['HOME_URL'] must be a path or an http(s) URL", id="portal.E005"))
    return errors
