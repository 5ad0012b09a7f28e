"""Architecture II: the endpoint row no longer holds what workers write (now deliveries.EndpointRuntime)."""
from django.db import migrations

RUNTIME = ("paused", "paused_at", "breaker_state", "breaker_failures", "breaker_changed_at", "breaker_until",
           "breaker_reason", "rate_tokens", "rate_checked_at")


class Migration(migrations.Migration):

    dependencies = [
        ('hooks', '0013_move_options_into_contract'),
        # The runtime state is copied out first (its RunPython reads these columns).
        ('deliveries', '0008_endpoint_runtime'),
    ]

    operations = [migrations.RemoveField(model_name='webhook', name=column) for column in RUNTIME]
