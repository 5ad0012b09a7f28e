"""Admin for tenants: superusers manage organisations and their members; other staff see only their own."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from console.admin_base import OrganisationScopedAdmin
from events.models import Organisation, OrganisationQuerySet


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    """Superusers manage tenants and their members; other staff only see their own organisations."""

    organisation_attribute = "id"
    list_display = ["name", "slug", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        queryset = cast(OrganisationQuerySet, super().get_queryset(request))  # the model's default manager
        return queryset.visible_to(request.user).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, organisation: Organisation) -> int:
        count: int = organisation.member_count  # type: ignore[attr-defined]  # annotated by get_queryset
        return count

    # The members widget lists every user of the site: only superusers may edit tenants.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return request.user.is_superuser
