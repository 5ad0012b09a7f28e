"""Who is in the portal, for which organisation, and what they may do: a link's session or the host's own login."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.shortcuts import render
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from events.models import Organisation
from hooks import patterns

from .conf import portal_settings
from .models import PortalLink

SESSION_KEY = "hookline_portal"


@dataclass(frozen=True)
class PortalAccess:
    organisation: Organisation
    read_only: bool = False
    event_types: tuple[str, ...] | None = None  # patterns the catalog is limited to; None = all of it
    via: str = "login"  # "link" or "login"

    def allows_event_type(self, key: str) -> bool:
        return self.event_types is None or patterns.matches_any(self.event_types, key)


def start_session(request: HttpRequest, link: PortalLink) -> None:
    """A fresh session key (no fixation), holding only this organisation's access."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "organisation": link.organisation_id,
        "read_only": link.read_only,
        "event_types": link.event_types,
        "until": time.time() + portal_settings.SESSION_AGE,
    }


def end_session(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def resolve(request: HttpRequest) -> PortalAccess | None:
    """A link's session first (it names one organisation exactly), then the host's login."""
    granted = request.session.get(SESSION_KEY)
    if granted and granted.get("until", 0) > time.time():
        organisation = Organisation.objects.filter(pk=granted["organisation"]).first()
        if organisation is not None:
            event_types = granted.get("event_types")
            return PortalAccess(
                organisation, bool(granted.get("read_only")), tuple(event_types) if event_types else None, via="link"
            )
    return _from_host_login(request)


def _from_host_login(request: HttpRequest) -> PortalAccess | None:
    if not portal_settings.ORGANISATION:
        return None
    organisation = import_string(portal_settings.ORGANISATION)(request)
    if organisation is None:
        return None
    if portal_settings.PERMISSION and not import_string(portal_settings.PERMISSION)(request, organisation):
        return None
    return PortalAccess(organisation, via="login")


def portal_view(view):
    """Every portal view: an organisation or a refusal page; writes (POST) refused in a read-only session."""

    @wraps(view)
    @portal_page
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        access = resolve(request)
        if access is None:
            return refusal(
                request,
                _(
                    "You are not signed in to the webhook portal. Open a new link from the "
                    "application, or sign in there first."
                ),
                status=403,
            )
        if request.method not in ("GET", "HEAD") and access.read_only:
            return refusal(request, _("This portal session is read-only."), status=403)
        request.portal = access
        return view(request, *args, **kwargs)

    return wrapper


def portal_page(view):
    """Any portal page, signed in or not: in the customer's language (Accept-Language, whether or not the host
    runs LocaleMiddleware), and framed only by the FRAME_ANCESTORS hosts."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        with translation.override(translation.get_language_from_request(request)):
            return allow_framing(view(request, *args, **kwargs))

    return wrapper


def refusal(request: HttpRequest, message: str, *, status: int):
    return render(request, "portal/refused.html", {"message": message}, status=status)


def allow_framing(response):
    ancestors = list(portal_settings.FRAME_ANCESTORS)
    if ancestors:
        response["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(ancestors)
        response.xframe_options_exempt = True  # the CSP above decides; X-Frame-Options cannot name hosts
    return response
