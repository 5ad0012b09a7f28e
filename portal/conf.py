"""The portal's settings: one dict, ``HOOKLINE_PORTAL = {...}``, with documented defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from hookline.conf import HooklineSettings

DEFAULTS: dict[str, Any] = {
    # Dotted path of a function request -> Organisation | None: the host's own login ("" = magic links only).
    "ORGANISATION": "",
    # Dotted path of a function (request, organisation) -> bool: may this logged-in user use the portal?
    # "" = anyone ORGANISATION names an organisation for.
    "PERMISSION": "",
    # Seconds a magic link stays valid: short, since it travels in URLs (mail, chat) until it is opened.
    "LINK_TTL": 15 * 60,
    # Seconds a portal session opened by a link lasts.
    "SESSION_AGE": 8 * 3600,
    # Hosts that may show the portal in an iframe (CSP frame-ancestors); empty = not framed by other sites.
    "FRAME_ANCESTORS": [],
    # A logo (URL or static path) shown in the header; "" = the organisation's name only.
    "LOGO_URL": "",
    # A stylesheet loaded after the portal's own (URL or static path): override its CSS variables to theme it.
    "STYLESHEET": "",
    # Test sends per organisation: each one is an outbound request we make on a customer's click.
    "TEST_SEND_RATE": "10/m",
    # The host site's page the header's "Back to <site>" link leads to (a URL or a path; "" = no link).
    # It opens in the whole window (target _top), so it also leaves an iframe.
    "HOME_URL": "",
}


class PortalSettings(HooklineSettings):
    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "HOOKLINE_PORTAL", {}) or {}


portal_settings = PortalSettings(DEFAULTS)


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "HOOKLINE_PORTAL":
        portal_settings.reload()


setting_changed.connect(_reload)
