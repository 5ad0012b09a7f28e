"""Organisations (events.Organisation), the tenants: their admin."""
