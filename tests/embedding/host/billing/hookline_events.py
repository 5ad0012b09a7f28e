"""The shop's event types, declared in code (synchronised into Hookline's catalog on migrate)."""

import events

events.register("invoice.paid", description="An invoice was paid.", schema={"type": "object", "required": ["invoice"]})
