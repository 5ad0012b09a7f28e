"""Signals that endpoint operations send to the apps above them (hooks imports no delivery code)."""
from django.dispatch import Signal

# Sent after the commit that created an endpoint, or changed its URL, when the endpoint asks to be
# tested then (Webhook.test_on_save); keyword argument ``webhook_id``. deliveries sends the test.
endpoint_needs_test = Signal()
