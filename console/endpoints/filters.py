"""Endpoint list filters: state, creation time, free-text search; deactivated endpoints only when asked for."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from hookline.api.filters import TimeFilter
from hooks.models import Webhook


class WebhookFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=Webhook.State.choices,
        help_text="Only endpoints in this state. Deactivated endpoints are listed only when this is 'deactivated'.",
    )
    created_after = TimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Created at or after this ISO 8601 time.",
    )
    created_before = TimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Created before this ISO 8601 time.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Case-insensitive text in the name, description or URL.",
    )

    class Meta:
        model = Webhook
        fields = ["state", "created_after", "created_before", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value) | Q(url__icontains=value))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.excluding_deactivated()
        return queryset
