"""The tenant QuerySet base: rows that belong to an organisation, and what a user may see of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    """Rows that belong to an organisation; ``members_path`` leads from a row to its organisation's members."""

    members_path = "organisation__members"

    def visible_to(self, user: User | AnonymousUser) -> Self:
        """What the user may see: their organisations' rows (all rows for a superuser, none for anonymous)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(**{self.members_path: user})
