"""Signals that endpoint operations send to the apps above them (hooks imports no delivery code)."""

from django.dispatch import Signal

# Sent after the commit that created an endpoint, or changed its URL, when the endpoint asks to be
# tested then (contract policy.test_on_save); keyword argument ``webhook_id``. deliveries sends the test.
endpoint_needs_test = Signal()

# Sent inside the transaction of a committed state change that carries an operational event
# (hooks.states: invalid, deactivated); keyword arguments ``webhook_id``, ``change`` (states.Change)
# and ``reason``. deliveries.alerts turns it into the event, the email and the public signal.
endpoint_state_changed = Signal()
