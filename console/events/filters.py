"""Event log filters (API) and the admin's payload search, shared with the delivery log."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.http import HttpRequest

from events import search
from events.models import Event
from hookline.api.filters import TimeFilter

from ..deliveries.filters import filter_by_payload

PAYLOAD_HELP = "A payload field's value, path = value: data.notice.id = 42 (42 matches the number and the string)."


class EventFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="type", help_text="Exact event type key.")
    payload = django_filters.CharFilter(method="filter_payload", help_text=PAYLOAD_HELP + " Indexed on PostgreSQL.")
    created_after = TimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 time."
    )
    created_before = TimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this ISO 8601 time."
    )

    class Meta:
        model = Event
        fields = ["type", "payload", "created_after", "created_before"]

    def filter_payload(self, queryset, name, value):
        return filter_by_payload(queryset, value)


class PayloadSearchMixin:
    """The admin search box also takes ``data.<path> = value`` (data.notice.id = 42): rows whose payload has it.

    Only a term that starts with ``data.`` is a payload search (an idempotency key may contain "="), and
    then it is only that: OR-ed with the exact-id searches, PostgreSQL scanned a million rows (0.9-3.6 s).
    """

    payload_prefix = ""  # the path from the listed model to Event.payload's owner, e.g. "event__"

    def get_search_results(self, request: HttpRequest, queryset, search_term):
        if not (search_term.startswith("data.") and "=" in search_term):
            return super().get_search_results(request, queryset, search_term)
        try:
            return queryset.filter(search.payload_q(search_term, prefix=self.payload_prefix)), False
        except search.InvalidSearch as exc:
            messages.warning(request, str(exc))
            return queryset.none(), False
