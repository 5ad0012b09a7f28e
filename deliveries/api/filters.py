"""Delivery log filters: endpoint, status, event type, event id and creation time."""
from __future__ import annotations

import django_filters

from deliveries.models import Delivery


class DeliveryFilter(django_filters.FilterSet):
    webhook = django_filters.NumberFilter(field_name="webhook_id", help_text="Only this endpoint's deliveries.")
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)
    event_type = django_filters.CharFilter(field_name="event__type", help_text="Exact event type key.")
    event = django_filters.CharFilter(field_name="event_id", help_text="The event id (msg_…) that emit returned.")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = ["webhook", "status", "event_type", "event", "created_after", "created_before"]
