"""Event types that Hookline itself emits."""

import events

WEBHOOK_TEST = "webhook.test"
ENDPOINT_INVALID = "hookline.endpoint.invalid"
ENDPOINT_DEACTIVATED = "hookline.endpoint.deactivated"

events.register(WEBHOOK_TEST, description="A test ping sent from the admin or the API to prove an endpoint works.")
# ENDPOINT_INVALID and ENDPOINT_DEACTIVATED are registered, with their schema, by deliveries.alerts,
# which emits them (to the endpoints that name them) when hooks.states says an endpoint was disabled.
