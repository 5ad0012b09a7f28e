"""Architecture II: what the workers write about an endpoint moves out of the row people edit.

Creates EndpointRuntime (one-to-one with the endpoint) and copies the breaker, pause and token-bucket
state of the endpoints that have any; hooks 0011 then drops those columns from the endpoint.
"""
import django.db.models.deletion
from django.db import migrations, models

RUNTIME = ("paused", "paused_at", "breaker_state", "breaker_failures", "breaker_changed_at", "breaker_until",
           "breaker_reason", "rate_tokens", "rate_checked_at")


def runtime_out_of_endpoints(apps, schema_editor) -> None:
    Webhook = apps.get_model("hooks", "Webhook")
    EndpointRuntime = apps.get_model("deliveries", "EndpointRuntime")
    busy = Webhook.objects.filter(
        models.Q(paused=True) | ~models.Q(breaker_state="closed") | models.Q(breaker_failures__gt=0)
        | models.Q(rate_tokens__isnull=False) | models.Q(breaker_changed_at__isnull=False)
    )
    rows = [EndpointRuntime(webhook_id=row["id"], **{name: row[name] for name in RUNTIME})
            for row in busy.values("id", *RUNTIME).iterator(chunk_size=500)]
    EndpointRuntime.objects.bulk_create(rows, batch_size=500)


def runtime_into_endpoints(apps, schema_editor) -> None:
    Webhook = apps.get_model("hooks", "Webhook")
    EndpointRuntime = apps.get_model("deliveries", "EndpointRuntime")
    for row in EndpointRuntime.objects.values("webhook_id", *RUNTIME).iterator(chunk_size=500):
        Webhook.objects.filter(pk=row.pop("webhook_id")).update(**row)


class Migration(migrations.Migration):

    dependencies = [
        ('deliveries', '0007_add_alerts'),
        ('hooks', '0013_move_options_into_contract'),
    ]

    operations = [
        migrations.CreateModel(
            name='EndpointRuntime',
            fields=[
                ('webhook', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='runtime', serialize=False, to='hooks.webhook', verbose_name='endpoint')),
                ('paused', models.BooleanField(default=False, help_text='New deliveries are kept as held and sent, in order, on resume (unlike disabling, which records nothing).', verbose_name='paused')),
                ('paused_at', models.DateTimeField(blank=True, null=True, verbose_name='paused since')),
                ('breaker_state', models.CharField(choices=[('closed', 'closed'), ('open', 'open'), ('half-open', 'half-open')], default='closed', max_length=20, verbose_name='breaker')),
                ('breaker_failures', models.PositiveIntegerField(default=0, verbose_name='consecutive failures')),
                ('breaker_changed_at', models.DateTimeField(blank=True, null=True, verbose_name='breaker changed')),
                ('breaker_until', models.DateTimeField(blank=True, help_text="Open: the end of the cool-down. Half-open: when the probe's claim runs out.", null=True, verbose_name='breaker waits until')),
                ('breaker_reason', models.CharField(blank=True, max_length=500, verbose_name='breaker reason')),
                ('rate_tokens', models.FloatField(blank=True, null=True)),
                ('rate_checked_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'endpoint runtime state',
            },
        ),
        migrations.RunPython(runtime_out_of_endpoints, runtime_into_endpoints, elidable=False),
    ]
