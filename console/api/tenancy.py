"""Which organisation a request acts for: a slug among the user's own organisations, or their only one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.models import Organisation
from hookline import limits


@extend_schema_field(OpenApiTypes.STR)
class OrganisationField(serializers.SlugRelatedField[Organisation]):
    """An organisation slug; only the requesting user's organisations exist as far as it is concerned."""

    nullable_in_response = True  # a superuser's objects outside any organisation

    default_error_messages = {
        "does_not_exist": "You are not a member of an organisation with slug '{value}'.",
        "invalid": "Give the organisation's slug.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "Slug of one of your organisations; may be left out if you belong to exactly one."
        )
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Organisation]:
        return Organisation.objects.visible_to(self.context["request"].user)

    def to_internal_value(self, data: Any) -> Organisation:
        if isinstance(data, str):  # a NUL would reach the lookup, which PostgreSQL refuses with a 500
            try:
                limits.check_text(data, where="organisation", max_length=limits.NAME_MAX_LENGTH)
            except limits.LimitExceeded as exc:
                raise serializers.ValidationError(exc.reason, code=exc.code) from None
        return super().to_internal_value(data)


class OrganisationSlugField(serializers.SlugRelatedField[Organisation]):
    """An organisation's slug in answers; null for what belongs to no organisation."""

    nullable_in_response = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


def default_organisation(user: User) -> Organisation | None:
    """The user's only organisation; None for a superuser outside any; otherwise the caller must choose."""
    slugs = list(Organisation.objects.filter(members=user).values_list("slug", flat=True)[:6])
    if len(slugs) == 1:
        return Organisation.objects.get(slug=slugs[0])
    if user.is_superuser and not slugs:
        return None
    if not slugs:
        raise serializers.ValidationError(
            {"organisation": "You belong to no organisation: ask an administrator to add you to one."},
            code="no_organisation",
        )
    shown = ", ".join(slugs[:5]) + (", …" if len(slugs) > 5 else "")
    raise serializers.ValidationError(
        {"organisation": f"Required: you belong to several organisations ({shown})."}, code="required"
    )
