"""``{% portal_setting "LOGO_URL" as logo %}``: the portal's theme settings in its templates."""

from django import template
from django.templatetags.static import static

from ..conf import portal_settings

register = template.Library()

THEME_SETTINGS = frozenset({"LOGO_URL", "STYLESHEET", "HOME_URL"})


@register.simple_tag
def portal_setting(name: str) -> str:
    """A theme setting; a relative path is a static file of the host (so it is served locally too)."""
    if name not in THEME_SETTINGS:
        raise template.TemplateSyntaxError(f"{name} is not a portal theme setting")
    value = getattr(portal_settings, name)
    if value and name != "HOME_URL" and not value.startswith(("/", "http://", "https://")):
        return static(value)
    return value
