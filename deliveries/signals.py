"""Django signals for operational moments, sent after the commit that recorded them (docs/operations-alerts.md).

Every receiver gets ``webhook`` (the endpoint the moment is about), ``kind`` (the name below),
``payload`` (the operational event's data) and ``notification`` (the deliveries.Notification row,
which also says who was emailed). They follow the alert window: at most one per endpoint and kind per
``HOOKLINE["ALERT_WINDOW"]``; ``HOOKLINE["ALERT_SIGNALS"] = False`` turns them off.

    from deliveries.signals import endpoint_disabled

    @receiver(endpoint_disabled)
    def page_the_owner(sender, webhook, payload, **kwargs):
        ...
"""

from django.dispatch import Signal

endpoint_failing = Signal()  # consecutive failed attempts or failing for a while: the first warning
endpoint_disabled = Signal()  # invalid (retries ran out, a test failed) or deactivated (410 Gone)
endpoint_recovered = Signal()  # the first success after a warning or a disablement
delivery_exhausted = Signal()  # a delivery's retry budget is spent
breaker_opened = Signal()
breaker_closed = Signal()
secret_expiring = Signal()  # a rotated-out secret stops signing soon
