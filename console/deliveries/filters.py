"""Delivery log filters: endpoint, status, event type, event id, a payload field and creation time."""

from __future__ import annotations

import django_filters
from rest_framework.exceptions import ValidationError

from deliveries.models import Delivery
from events import search
from hookline.api.filters import IdFilter, TimeFilter


class DeliveryFilter(django_filters.FilterSet):
    webhook = IdFilter(field_name="webhook_id")
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)
    event_type = django_filters.CharFilter(field_name="event__type", help_text="Exact event type key.")
    event = django_filters.CharFilter(field_name="event_id", help_text="The event id (msg_…) that emit returned.")
    payload = django_filters.CharFilter(
        method="filter_payload",
        help_text="A payload field's value, path = value: data.notice.id = 42 (42 matches the number and the string; "
        '"42" only the string). Indexed on PostgreSQL.',
    )
    batch = django_filters.CharFilter(field_name="batch_id", help_text="A batch's webhook-id (batch_…): its events.")
    created_after = TimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 time."
    )
    created_before = TimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this ISO 8601 time."
    )

    class Meta:
        model = Delivery
        fields = ["webhook", "status", "event_type", "event", "batch", "payload", "created_after", "created_before"]

    def filter_payload(self, queryset, name, value):
        return filter_by_payload(queryset, value, prefix="event__")


def filter_by_payload(queryset, text: str, *, prefix: str = ""):
    """The API's payload filter: a malformed search answers 400 with the reason."""
    try:
        return queryset.filter(search.payload_q(text, prefix=prefix))
    except search.InvalidSearch as exc:
        raise ValidationError({"payload": [str(exc)]}) from None
