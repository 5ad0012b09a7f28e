from datetime import datetime
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Customer portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_portal_settings

        checks.register(check_portal_settings)

    def hookline_prune(self, *, now: datetime, batch: int) -> dict[str, int]:
        """deliveries.retention's step for this app: one batch of spent magic links (used or expired)."""
        from .links import prune

        return {"portal_links": prune(now=now, batch=batch)}

    def hookline_api_routes(self) -> list[Any]:
        """Routes the console's API root adds: POST /api/portal-sessions/ (the console does not import the portal)."""
        from django.urls import path

        from .api import PortalSessionView

        return [path("portal-sessions/", PortalSessionView.as_view(), name="portal-session")]
