"""Admin for tenants: superusers manage organisations and their members; other staff see only their own."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest

from console.admin_base import OrganisationScopedAdmin
from events.models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    """Superusers manage tenants and their members; other staff only see their own organisations."""

    organisation_attribute = "id"
    list_display = ["name", "slug", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).visible_to(request.user).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, organisation: Organisation) -> int:
        return organisation.member_count

    # The members widget lists every user of the site: only superusers may edit tenants.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
