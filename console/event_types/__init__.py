"""The event-type catalog (events.EventType): its admin and /api/event-types/."""
