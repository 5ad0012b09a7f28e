"""Magic links: a signed, expiring, single-use URL that opens a portal session for one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Organisation

from .conf import portal_settings
from .models import PortalLink

SALT = "hookline.portal.link"
# Spent links are kept a day, so a second click on one still gets the page saying it was used; then pruned
# (deliveries.retention calls prune() through PortalConfig.hookline_prune).
KEEP_SPENT = timedelta(days=1)


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


def check(token: str) -> PortalLink:
    """The link a token names, if it would open the portal now; uses nothing (what a GET may do)."""
    link_id = _link_id(token)
    link = PortalLink.objects.select_related("organisation").filter(pk=link_id).first()
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        raise _refusal(link)
    return link


def redeem(token: str) -> PortalLink:
    """Use a link once: the conditional UPDATE lets exactly one of two concurrent openings win."""
    link_id = _link_id(token)
    now = timezone.now()
    if PortalLink.objects.filter(pk=link_id, used_at__isnull=True, expires_at__gt=now).update(used_at=now):
        return PortalLink.objects.select_related("organisation").get(pk=link_id)
    raise _refusal(PortalLink.objects.filter(pk=link_id).first())


def _link_id(token: str) -> int:
    try:
        return int(signing.loads(token, salt=SALT))
    except (signing.BadSignature, TypeError, ValueError):
        raise LinkRefused("invalid") from None


def _refusal(link: PortalLink | None) -> LinkRefused:
    # A token we signed whose row is gone was pruned (retention deletes spent links) or its organisation deleted.
    if link is None:
        return LinkRefused("expired")
    return LinkRefused("used" if link.used_at else "expired")


def prune(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete one batch of spent links (used or expired more than KEEP_SPENT ago); returns how many."""
    cutoff = (now or timezone.now()) - KEEP_SPENT
    spent = PortalLink.objects.filter(Q(used_at__lt=cutoff) | Q(expires_at__lt=cutoff))
    ids = list(spent.order_by().values_list("pk", flat=True)[:batch])
    return PortalLink.objects.filter(pk__in=ids).delete()[0] if ids else 0
