"""Scheduled events: their admin and API."""
