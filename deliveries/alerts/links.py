"""The links in an alert email: absolute URLs of the admin pages, and the signed, expiring re-enable token."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.urls import NoReverseMatch, reverse

from hookline.conf import hookline_settings

SALT = "hookline.alerts.reenable"
# Admin URL names (the edges app serves them; deliveries only names them).
HEALTH_URL = "admin:hooks_webhook_health"
REENABLE_URL = "admin:deliveries_notification_reenable"
HISTORY_URL = "admin:deliveries_notification_changelist"


def reenable_token(webhook_id: int, notification_id: int) -> str:
    """Signed and timestamped: it names the endpoint, proves Hookline wrote it, and expires (read_token)."""
    return signing.dumps({"webhook": webhook_id, "notification": notification_id}, salt=SALT)


def read_token(token: str) -> int:
    """The endpoint id of a re-enable token; raises signing.BadSignature (or SignatureExpired, its subclass)."""
    data = signing.loads(token, salt=SALT, max_age=hookline_settings.ALERT_LINK_MAX_AGE)
    return int(data["webhook"])


def absolute(path: str) -> str:
    """The site's address (HOOKLINE["SITE_URL"]) and the path; the path alone if no address is set."""
    site: str = hookline_settings.SITE_URL
    return site.rstrip("/") + path


def _url(name: str, *args: Any, query: str = "") -> str:
    try:
        return absolute(reverse(name, args=args)) + query
    except NoReverseMatch:  # a site without Hookline's admin: the email goes out without that link
        return ""


def health_url(webhook_id: int) -> str:
    return _url(HEALTH_URL, webhook_id)


def reenable_url(webhook_id: int, notification_id: int) -> str:
    return _url(REENABLE_URL, reenable_token(webhook_id, notification_id))


def history_url(webhook_id: int) -> str:
    return _url(HISTORY_URL, query=f"?webhook__id__exact={webhook_id}")
