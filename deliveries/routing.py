"""Why an event reached the endpoints it did: matched (a delivery exists) and filtered by a condition, for the event
page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from events.models import Event
from hooks import conditions, patterns
from hooks.models import Webhook


@dataclass
class Routing:
    matched: list[Webhook] = field(default_factory=list)
    filtered: list[Webhook] = field(default_factory=list)  # subscribed to the type, refused by their condition


def explain(event: Event, endpoints: QuerySet[Webhook] | None = None) -> Routing:
    """Matched endpoints are those with a delivery; filtered ones are evaluated now, with their current condition.

    Nothing is recorded at fan-out (it stays one INSERT per batch), so an endpoint whose condition changed
    since may show differently from how it was routed; its deliveries are the fact.
    """
    endpoints = Webhook.objects.all() if endpoints is None else endpoints
    delivered = set(event.deliveries.values_list("webhook_id", flat=True))
    routing = Routing(matched=list(endpoints.filter(id__in=delivered).order_by("name")))
    if event.target_endpoints:  # explicit targets: no subscription, no condition
        return routing
    candidates = (
        # None is IS NULL to Django (the site's own endpoints); the stubs refuse None here
        endpoints.filter(organisation_id=event.organisation_id)  # type: ignore[misc]
        .exclude(condition__isnull=True)
        .exclude(id__in=delivered)
    )
    for webhook in candidates.order_by("name"):
        predicate = conditions.compile_condition(webhook.condition)
        if (
            predicate is not None
            and patterns.matches_any(webhook.event_types, event.type)
            and not predicate(event.payload)
        ):
            routing.filtered.append(webhook)
    return routing
