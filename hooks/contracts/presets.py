"""Presets: one per reference platform, a contract's values filled in under the endpoint's own when it is saved."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError

from .value import PARTS, PAYLOAD, SPREAD, TEMPLATE

OBC_ELEMENT = {"id": "{{id}}", "eventkey": "{{type}}", "eventvalues": "{{data}}", "eventdatetime": "{{timestamp}}"}
# One preset per reference platform (../shared/reference): what the platform's own sender does.
PRESETS: dict[str, dict[str, Any]] = {
    "standard-webhooks": {},
    "cloudgear": {},  # envelopes; its v1/v2 shapes are payload versions (contract body.payload_version)
    "apigee": {
        "policy": {
            "attempts": 4,
            "delays": [300, 300, 300],
            "retry_on": "5xx",
            "on_exhaustion": "delivery",
            "gone_deactivates": False,
            "honour_retry_after": False,
            "connect_timeout": 3,
            "read_timeout": 3,
        },
        "body": {"shape": PAYLOAD},
    },
    # Signed envelopes; tested on create and on a URL change (contract policy.test_on_save). Only the owning
    # organisation deactivates a config: a receiver's 410 is a failure like any other.
    "ricloud": {"policy": {"gone_deactivates": False}},
    "bugyo-cloud": {
        "policy": {"attempts": 18, "success": [200], "retry_on": "all", "gone_deactivates": False},
        "body": {
            "shape": TEMPLATE,
            "template": OBC_ELEMENT,
            "content_type": "application/json; charset=utf-8",
            "id_format": "uuid-upper",
        },  # "id": "52A4C69D-9641-4147-860D-FFA5C207FDAB" in the document
        "request": {"headers": {"Accept": "application/json", "Accept-Charset": "utf-8"}},
        "batch": {"max_count": 100, "max_wait": 1},
    },
    "store-notice": {  # the token receivers check with POST /api/tokens/validate/ (validateWebhookToken)
        "body": {
            "shape": TEMPLATE,
            "template": {SPREAD: "{{data}}", "token": "{{secret.token}}"},
            "content_type": "application/json; charset=utf-8",
        },
    },
}


def expand(value: dict[str, Any] | None) -> dict[str, Any]:
    """A contract with its preset's values filled in under the given ones (a section's keys override the preset's)."""
    value = dict(value or {})
    preset = value.get("preset") or ""
    if not preset:
        return value
    if preset not in PRESETS:
        raise ValidationError(f"Unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}.", code="preset")
    merged = copy.deepcopy(PRESETS[preset])
    preset_headers = merged.get("request", {}).get("headers") or {}
    for section in PARTS:
        if value.get(section):
            merged[section] = {**merged.get(section, {}), **value[section]}
    if preset_headers and (value.get("request") or {}).get("headers"):
        # static headers: the preset's and the endpoint's, name by name (the endpoint's win)
        own = value["request"]["headers"]
        merged["request"]["headers"] = {
            **{name: v for name, v in preset_headers.items() if name.lower() not in {n.lower() for n in own}},
            **own,
        }
    merged["preset"] = preset
    return merged
