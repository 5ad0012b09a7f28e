"""A magic link's row: what it opens, until when, and whether it was used (single use is kept here, not in the URL)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PortalLink(models.Model):
    organisation = models.ForeignKey(
        "events.Organisation", on_delete=models.CASCADE, related_name="portal_links", verbose_name=_("organisation")
    )
    read_only = models.BooleanField(_("read only"), default=False)
    event_types = models.JSONField(
        _("event types"),
        null=True,
        blank=True,
        help_text=_("Only these event-type patterns may be picked; empty for the whole catalog."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")

    def __str__(self) -> str:
        return f"portal link {self.pk} for {self.organisation_id}"
