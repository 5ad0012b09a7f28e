"""Event types that Hookline itself emits."""
import events

WEBHOOK_TEST = "webhook.test"
ENDPOINT_INVALID = "hookline.endpoint.invalid"
ENDPOINT_DEACTIVATED = "hookline.endpoint.deactivated"

events.register(WEBHOOK_TEST, description="A test ping sent from the admin or the API to prove an endpoint works.")
events.register(
    ENDPOINT_INVALID,
    description="An endpoint's retries ran out or its test failed; it receives no events until someone fixes it.",
)
events.register(ENDPOINT_DEACTIVATED, description="A receiver answered 410 Gone and its endpoint was switched off.")
