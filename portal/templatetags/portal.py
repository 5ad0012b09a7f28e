"""The portal's settings in its templates: ``{% portal_setting "LOGO_URL" as logo %}``, ``{% portal_home %}``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.templatetags.static import static

from ..conf import portal_settings

register = template.Library()

THEME_SETTINGS = frozenset({"LOGO_URL", "STYLESHEET"})


@register.simple_tag
def portal_setting(name: str) -> str:
    """A theme setting; a relative path is a static file of the host (so it is served locally too)."""
    if name not in THEME_SETTINGS:
        raise template.TemplateSyntaxError(f"{name} is not a portal theme setting")
    value = getattr(portal_settings, name)
    if value and not value.startswith(("/", "http://", "https://")):
        return static(value)
    return value


@dataclass(frozen=True)
class Home:
    url: str
    name: str


@register.simple_tag(takes_context=True)
def portal_home(context) -> Home | None:
    """The header's "Back to <site>" link (HOME_URL): the site named by its host, or this site's for a path."""
    url = portal_settings.HOME_URL
    if not url:
        return None
    request = context.get("request")
    name = urlsplit(url).hostname or (request.get_host() if request is not None else url)
    return Home(url, name)


@register.filter
def pretty_json(value: Any) -> str:
    """A schema or an example as the JSON a receiver reads (escaped by the template, like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
