"""Delivery log filters: endpoint, status, event type, event id and creation time."""
from __future__ import annotations

import django_filters

from deliveries.models import Delivery
from hookline.api.filters import IdFilter, TimeFilter


class DeliveryFilter(django_filters.FilterSet):
    webhook = IdFilter(field_name="webhook_id")
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)
    event_type = django_filters.CharFilter(field_name="event__type", help_text="Exact event type key.")
    event = django_filters.CharFilter(field_name="event_id", help_text="The event id (msg_…) that emit returned.")
    batch = django_filters.CharFilter(field_name="batch_id", help_text="A batch's webhook-id (batch_…): its events.")
    created_after = TimeFilter(field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 time.")
    created_before = TimeFilter(field_name="created_at", lookup_expr="lt", help_text="Created before this ISO 8601 time.")

    class Meta:
        model = Delivery
        fields = ["webhook", "status", "event_type", "event", "batch", "created_after", "created_before"]
