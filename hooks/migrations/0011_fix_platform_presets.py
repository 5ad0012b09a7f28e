"""Endpoints saved with the ricloud or bugyo-cloud preset get what the fixed presets now say.

Contracts are stored expanded, so a preset's fix reaches existing endpoints only through here: a ricloud
config's receiver answering 410 no longer deactivates it (only the owning organisation does), and an OBC
setting sends the document's Accept and Accept-Charset headers. Values an endpoint set itself are kept. OBC's
GUID element ids (body.id_format) are not switched on here: that would change the ids of batches being retried
at the moment of the upgrade; set "body": {"id_format": "uuid-upper"} on such an endpoint to get them.
"""
from django.db import migrations

OBC_HEADERS = {"Accept": "application/json", "Accept-Charset": "utf-8"}


def fixed(contract: dict) -> dict | None:
    """The contract with the fixed preset's values filled in where it has none of its own; None: unchanged."""
    preset = contract.get("preset")
    if preset == "ricloud" and "gone_deactivates" not in contract.get("policy", {}):
        return {**contract, "policy": {**contract.get("policy", {}), "gone_deactivates": False}}
    if preset == "bugyo-cloud":
        given = {name.lower() for name in contract.get("headers", {})}
        missing = {name: value for name, value in OBC_HEADERS.items() if name.lower() not in given}
        if missing:
            return {**contract, "headers": {**missing, **contract.get("headers", {})}}
    return None


def forward(apps, schema_editor):
    Webhook = apps.get_model("hooks", "Webhook")
    changed = []
    for webhook in Webhook.objects.only("pk", "contract").iterator(chunk_size=2000):
        contract = fixed(webhook.contract) if isinstance(webhook.contract, dict) else None
        if contract is not None:
            webhook.contract = contract
            changed.append(webhook)
    Webhook.objects.bulk_update(changed, ["contract"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("hooks", "0010_add_body_token"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
