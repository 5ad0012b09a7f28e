"""The tenant QuerySet base: rows that belong to an organisation, and what a user may see of them."""

from django.db import models


class TenantQuerySet(models.QuerySet):
    """Rows that belong to an organisation; ``members_path`` leads from a row to its organisation's members."""

    members_path = "organisation__members"

    def visible_to(self, user):
        """What the user may see: their organisations' rows (all rows for a superuser, none for anonymous)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(**{self.members_path: user})
