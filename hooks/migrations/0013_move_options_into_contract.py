"""Architecture II: every delivery option moves into the endpoint's contract (one JSON value).

The eleven option columns (static headers, proxy, payload version, test on save, signature flags,
rate limit, breaker thresholds, FIFO) are copied into their contract sections, then dropped. Values
that only said the default are not copied: ``{}`` still means the HOOKLINE defaults. The mapping is
written out here, not imported, so that this migration keeps meaning what it meant.
"""
from django.db import migrations, models

# column -> (contract section, key, value that means "the default": not copied)
COLUMNS = {
    "headers": ("request", "headers", {}),
    "proxy_url": ("request", "proxy_url", ""),
    "payload_version": ("body", "payload_version", ""),
    "test_on_save": ("policy", "test_on_save", False),
    "standard_signature": ("signature", "standard", True),
    "github_signature": ("signature", "github", False),
    "asymmetric_signature": ("signature", "asymmetric", False),
    "shared_secret_header": ("signature", "shared_secret_header", ""),
    "rate_limit": ("control", "rate_limit", None),
    "rate_limit_burst": ("control", "rate_limit_burst", None),
    "ordered": ("control", "ordered", False),
    "breaker_threshold": ("control", "breaker_threshold", None),
    "breaker_cooldown": ("control", "breaker_cooldown", None),
}


def columns_into_contract(apps, schema_editor) -> None:
    Webhook = apps.get_model("hooks", "Webhook")
    for webhook in Webhook.objects.only("id", "contract", *COLUMNS).iterator(chunk_size=500):
        contract = {name: dict(value) if isinstance(value, dict) else value for name, value in (webhook.contract or {}).items()}
        for column, (section, key, default) in COLUMNS.items():
            value = getattr(webhook, column)
            if value is None or value == default or (default == {} and not value):
                continue
            if key == "headers":  # a preset's static headers (0012) stay under the endpoint's own
                value = {**contract.get(section, {}).get(key, {}), **value}
            contract.setdefault(section, {})[key] = value
        if contract != (webhook.contract or {}):
            Webhook.objects.filter(pk=webhook.pk).update(contract=contract)


def contract_into_columns(apps, schema_editor) -> None:
    Webhook = apps.get_model("hooks", "Webhook")
    for webhook in Webhook.objects.only("id", "contract").iterator(chunk_size=500):
        contract = {name: dict(value) if isinstance(value, dict) else value for name, value in (webhook.contract or {}).items()}
        columns = {}
        for column, (section, key, default) in COLUMNS.items():
            value = (contract.get(section) or {}).pop(key, None)
            columns[column] = default if value is None else value
        contract = {name: value for name, value in contract.items() if value not in ({}, None, "")}
        Webhook.objects.filter(pk=webhook.pk).update(contract=contract, **columns)


class Migration(migrations.Migration):

    dependencies = [
        ('hooks', '0012_fix_presets_and_name_reserved_types'),
    ]

    operations = [
        migrations.RunPython(columns_into_contract, contract_into_columns, elidable=False),
        *[migrations.RemoveField(model_name='webhook', name=column) for column in COLUMNS],
        migrations.AlterField(
            model_name='webhook',
            name='contract',
            field=models.JSONField(blank=True, default=dict, help_text='Every delivery option ({} = the HOOKLINE defaults): preset, policy, body, batch, control, request and signature sections (docs/endpoint-options.md).', verbose_name='delivery contract'),
        ),
    ]
