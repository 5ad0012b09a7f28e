"""``hookline(KEY=value)``: override_settings for some HOOKLINE keys, the others kept as configured."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings


def hookline(**overrides: object) -> override_settings:
    return override_settings(HOOKLINE={**settings.HOOKLINE, **overrides})
