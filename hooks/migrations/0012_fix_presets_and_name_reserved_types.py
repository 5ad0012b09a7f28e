"""Existing endpoints keep their meaning under the fixes of the seed-fidelity round.

Endpoints saved with the ricloud or bugyo-cloud preset get what the fixed presets now say.

Contracts are stored expanded, so a preset's fix reaches existing endpoints only through here: a ricloud
config's receiver answering 410 no longer deactivates it (only the owning organisation does), and an OBC
setting sends the document's Accept and Accept-Charset headers. Values an endpoint set itself are kept. OBC's
GUID element ids (body.id_format) are not switched on here: that would change the ids of batches being retried
at the moment of the upgrade; set "body": {"id_format": "uuid-upper"} on such an endpoint to get them.

No wildcard selects Hookline's reserved hookline.* types any more (hooks.patterns): an operations endpoint that
subscribed with one (hookline.endpoint.*) gets, in its place, the names of the reserved types it selected, so
it keeps receiving them. `*` is left alone: it was never meant to bring them.
"""
from django.db import migrations

OBC_HEADERS = {"Accept": "application/json", "Accept-Charset": "utf-8"}
RESERVED_PREFIX = "hookline."
# hooks/hookline_events.py's types; the catalog table adds any other reserved type the site has synced.
KNOWN_RESERVED = ("hookline.endpoint.deactivated", "hookline.endpoint.invalid")


def fixed(contract: dict) -> dict | None:
    """The contract with the fixed preset's values filled in where it has none of its own; None: unchanged."""
    preset = contract.get("preset")
    if preset == "ricloud" and "gone_deactivates" not in contract.get("policy", {}):
        return {**contract, "policy": {**contract.get("policy", {}), "gone_deactivates": False}}
    if preset == "bugyo-cloud":
        request = contract.get("request", {})
        given = {name.lower() for name in request.get("headers", {})}
        missing = {name: value for name, value in OBC_HEADERS.items() if name.lower() not in given}
        if missing:
            return {**contract, "request": {**request, "headers": {**missing, **request.get("headers", {})}}}
    return None


def _selected(pattern: str, key: str) -> bool:
    """hooks.patterns.matches as it was before reserved types were set apart."""
    def segments(pattern_parts: list[str], key_parts: list[str]) -> bool:
        return len(pattern_parts) == len(key_parts) and all(p in ("*", k) for p, k in zip(pattern_parts, key_parts))

    pattern_parts, key_parts = pattern.split("."), key.split(".")
    return segments(pattern_parts, key_parts) or len(key_parts) > 1 and segments(pattern_parts, key_parts[:-1])


def named(patterns: list, reserved: list[str]) -> list | None:
    """The patterns with each wildcard over reserved types replaced by the names it selected; None: unchanged."""
    if not isinstance(patterns, list) or not any(
            isinstance(p, str) and p.startswith(RESERVED_PREFIX) and "*" in p for p in patterns):
        return None
    result: list = []
    for pattern in patterns:
        wildcard = isinstance(pattern, str) and pattern.startswith(RESERVED_PREFIX) and "*" in pattern
        for name in [key for key in reserved if _selected(pattern, key)] if wildcard else [pattern]:
            if name not in result:
                result.append(name)
    return result or None  # it selected nothing before either: left as it is (an edit will ask for names)


def forward(apps, schema_editor) -> None:
    Webhook, EventType = apps.get_model("hooks", "Webhook"), apps.get_model("events", "EventType")
    reserved = sorted({*KNOWN_RESERVED, *EventType.objects.filter(key__startswith=RESERVED_PREFIX)
                       .values_list("key", flat=True)})
    changed = []
    for webhook in Webhook.objects.only("pk", "contract", "event_types").iterator(chunk_size=2000):
        contract = fixed(webhook.contract) if isinstance(webhook.contract, dict) else None
        patterns = named(webhook.event_types, reserved)
        if contract is not None or patterns is not None:
            webhook.contract = webhook.contract if contract is None else contract
            webhook.event_types = webhook.event_types if patterns is None else patterns
            changed.append(webhook)
    Webhook.objects.bulk_update(changed, ["contract", "event_types"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("hooks", "0011_add_body_token"),
        ("events", "0001_initial"),  # EventType: the reserved types the site knows
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
