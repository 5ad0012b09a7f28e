"""Magic links: a signed, expiring, single-use URL that opens a portal session for one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Organisation

from .conf import portal_settings
from .models import PortalLink

SALT = "hookline.portal.link"


class LinkRefused(Exception):
    """Why a link does not open a session; ``reason`` is shown on the refusal page."""

    REASONS = {
        "invalid": _("This link is not valid. Check that it was copied whole, or ask for a new one."),
        "expired": _("This link has expired. Ask for a new one."),
        "used": _("This link was already used: each link opens the portal once. Ask for a new one."),
    }

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(str(self.REASONS[code]))


@dataclass(frozen=True)
class MagicLink:
    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        """The link's path on this site (the portal's URLs are included under the ``portal`` namespace)."""
        return reverse("portal:open", args=[self.token])


def mint(
    organisation: Organisation,
    *,
    read_only: bool = False,
    event_types: list[str] | None = None,
    ttl: float | None = None,
    user=None,
) -> MagicLink:
    """A new link for ``organisation``: ``redirect(link.path)`` or ``request.build_absolute_uri(link.path)``."""
    seconds = portal_settings.LINK_TTL if ttl is None else ttl
    link = PortalLink.objects.create(
        organisation=organisation,
        read_only=read_only,
        event_types=event_types or None,
        expires_at=timezone.now() + timedelta(seconds=seconds),
        created_by=user,
    )
    return MagicLink(signing.dumps(link.pk, salt=SALT), link.expires_at)


def redeem(token: str) -> PortalLink:
    """Use a link once: the conditional UPDATE lets exactly one of two concurrent openings win."""
    try:
        link_id = int(signing.loads(token, salt=SALT))
    except (signing.BadSignature, TypeError, ValueError):
        raise LinkRefused("invalid") from None
    now = timezone.now()
    if PortalLink.objects.filter(pk=link_id, used_at__isnull=True, expires_at__gt=now).update(used_at=now):
        return PortalLink.objects.select_related("organisation").get(pk=link_id)
    link = PortalLink.objects.filter(pk=link_id).first()
    if link is None:
        raise LinkRefused("invalid")
    raise LinkRefused("used" if link.used_at else "expired")
