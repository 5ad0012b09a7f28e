"""Event types that the deliveries app emits: the operational events (deliveries/alerts/kinds.py)."""

from .alerts.kinds import register_event_types

register_event_types()
