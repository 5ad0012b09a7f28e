"""Events (events.Event): the read-only event log in the admin with its deliveries, and POST /api/events/ (emit)."""
