"""Endpoints (hooks.Webhook): the admin with its delivery columns and actions, and /api/webhooks/."""
