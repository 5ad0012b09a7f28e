"""An endpoint's delivery contract: its retry policy, body shape and batching, validated, with named presets."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from hookline import limits
from hookline.conf import hookline_settings

from . import headers as static_headers

# What the envelope is called where a contract names its body shape.
ENVELOPE, PAYLOAD, TEMPLATE = "envelope", "payload", "template"
SHAPES = (ENVELOPE, PAYLOAD, TEMPLATE)
RETRY_CHOICES = ("all", "server-errors", "5xx")
EXHAUSTION_CHOICES = ("invalid", "delivery")  # the endpoint becomes invalid / only the delivery fails
# A template placeholder is a whole string, or a part of one: {{id}}, {{type}}, {{timestamp}},
# {{data}}, {{data.a.b}}, {{const.name}}, {{secret.token}}. Nothing else is evaluated: templates are data, not code.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")
SPREAD = "..."  # a template key whose value (an object placeholder) is merged into the object
MAX_DELAYS = 50
MAX_BATCH = 1000
MAX_BATCH_WAIT = 3600.0
MAX_TEMPLATE_CHARS = 8 * 1024
# What {{id}} is in a template: the event id (msg_…), or a GUID made from it (the same for every
# attempt, batch retry and redelivery of the event), lower- or upper-case.
ID_FORMATS = ("event", "uuid", "uuid-upper")
BODY_TOKEN = "secret.token"  # the endpoint's body token (Webhook.body_token), encrypted at rest

POLICY_KEYS = {
    "attempts", "delays", "base_delay", "max_delay", "jitter", "honour_retry_after", "success", "retry_on",
    "on_exhaustion", "gone_deactivates", "connect_timeout", "read_timeout", "max_in_flight",
}
MAX_IN_FLIGHT = 1000
BODY_KEYS = {"shape", "template", "constants", "content_type", "id_format"}
BATCH_KEYS = {"max_count", "max_wait"}
# headers: static headers the platform's requests carry (any names; checked like Webhook.headers).
SECTIONS = {"preset": None, "policy": POLICY_KEYS, "body": BODY_KEYS, "batch": BATCH_KEYS, "headers": None}
MERGED_SECTIONS = ("policy", "body", "batch", "headers")  # a preset's values, overridden key by key

OBC_ELEMENT = {"id": "{{id}}", "eventkey": "{{type}}", "eventvalues": "{{data}}", "eventdatetime": "{{timestamp}}"}
# One preset per reference platform (../shared/reference): what the platform's own sender does.
PRESETS: dict[str, dict[str, Any]] = {
    "standard-webhooks": {},
    "cloudgear": {},  # envelopes; its v1/v2 shapes are payload versions (Webhook.payload_version)
    "apigee": {
        "policy": {"attempts": 4, "delays": [300, 300, 300], "retry_on": "5xx", "on_exhaustion": "delivery",
                   "gone_deactivates": False, "honour_retry_after": False, "connect_timeout": 3, "read_timeout": 3},
        "body": {"shape": PAYLOAD},
    },
    # Signed envelopes; tested on create and on a URL change (Webhook.test_on_save). Only the owning
    # organisation deactivates a config: a receiver's 410 is a failure like any other.
    "ricloud": {"policy": {"gone_deactivates": False}},
    "bugyo-cloud": {
        "policy": {"attempts": 18, "success": [200], "retry_on": "all", "gone_deactivates": False},
        "body": {"shape": TEMPLATE, "template": OBC_ELEMENT, "content_type": "application/json; charset=utf-8",
                 "id_format": "uuid-upper"},  # "id": "52A4C69D-9641-4147-860D-FFA5C207FDAB" in the document
        "headers": {"Accept": "application/json", "Accept-Charset": "utf-8"},
        "batch": {"max_count": 100, "max_wait": 1},
    },
    "store-notice": {  # the token receivers check with POST /api/tokens/validate/ (validateWebhookToken)
        "body": {"shape": TEMPLATE, "template": {SPREAD: "{{data}}", "token": "{{secret.token}}"},
                 "content_type": "application/json; charset=utf-8"},
    },
}


@dataclass(frozen=True)
class Policy:
    """The retry policy of one endpoint; None/empty fields fall back to the HOOKLINE settings."""

    attempts: int | None = None
    delays: tuple[float, ...] = ()
    base_delay: float | None = None
    max_delay: float | None = None
    jitter: float | None = None
    honour_retry_after: bool = True
    success: frozenset[int] = frozenset()  # empty: any 2xx
    retry_on: str | frozenset[int] | None = None  # None: HOOKLINE["RETRY_POLICY"]
    on_exhaustion: str = "invalid"
    gone_deactivates: bool = True
    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_in_flight: int | None = None  # requests in flight per worker process; None: HOOKLINE's default

    @property
    def max_attempts(self) -> int:
        if self.attempts:
            return self.attempts
        return len(self.delays) + 1 if self.delays else hookline_settings.MAX_ATTEMPTS

    def timeouts(self) -> tuple[float, float]:
        """(connect, read), never above the global bounds."""
        settings = hookline_settings
        connect = min(self.connect_timeout or settings.CONNECT_TIMEOUT, settings.CONNECT_TIMEOUT)
        read = min(self.read_timeout or settings.READ_TIMEOUT, settings.READ_TIMEOUT)
        return connect, read


@dataclass(frozen=True)
class Body:
    shape: str = ENVELOPE
    template: Any = None
    constants: dict | None = None
    content_type: str = "application/json"
    id_format: str = "event"

    @property
    def places_token(self) -> bool:
        """Does the body carry the endpoint's body token ({{secret.token}})?"""
        return self.shape == TEMPLATE and _places(self.template, BODY_TOKEN)


@dataclass(frozen=True)
class Batch:
    max_count: int = 1
    max_wait: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.max_count > 1 or self.max_wait > 0


@dataclass(frozen=True)
class Contract:
    preset: str = ""
    policy: Policy = Policy()
    body: Body = Body()
    batch: Batch = Batch()
    headers: dict[str, str] = field(default_factory=dict)


DEFAULT = Contract()


def parse(value: dict | None) -> Contract:
    """The Contract of a stored (already validated) contract dict; {} is the HOOKLINE defaults."""
    if not value:
        return DEFAULT
    policy = dict(value.get("policy") or {})
    for name in ("success",):
        policy[name] = frozenset(policy.get(name) or ())
    if isinstance(policy.get("retry_on"), list):
        policy["retry_on"] = frozenset(policy["retry_on"])
    policy["delays"] = tuple(policy.get("delays") or ())
    return Contract(
        preset=value.get("preset", ""), policy=Policy(**policy),
        body=Body(**(value.get("body") or {})), batch=Batch(**(value.get("batch") or {})),
        headers=dict(value.get("headers") or {}),
    )


def expand(value: dict | None) -> dict:
    """A contract with its preset's values filled in under the given ones (a section's keys override the preset's)."""
    value = dict(value or {})
    preset = value.get("preset") or ""
    if not preset:
        return value
    if preset not in PRESETS:
        raise ValidationError(f"Unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}.", code="preset")
    merged = copy.deepcopy(PRESETS[preset])
    for section in MERGED_SECTIONS:
        if value.get(section):
            merged[section] = {**merged.get(section, {}), **value[section]}
    merged["preset"] = preset
    return merged


def validate_contract(value: Any) -> dict:
    """The stored form of a contract: the preset expanded, every value checked; raises ValidationError with a clear message."""
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("The delivery contract must be a JSON object.", code="contract")
    unknown = sorted(set(value) - set(SECTIONS))
    if unknown:
        raise ValidationError(f"Unknown contract sections: {', '.join(unknown)} (use {', '.join(SECTIONS)}).",
                              code="contract")
    if not isinstance(value.get("preset", ""), str):
        raise ValidationError("contract.preset must be a preset's name.", code="contract")
    for section in MERGED_SECTIONS:
        if section in value and not isinstance(value[section], dict):
            raise ValidationError(f"contract.{section} must be an object.", code="contract")
    try:  # valid Unicode (no NUL, no lone surrogate: PostgreSQL refuses them), bounded depth
        limits.check_json(value, where="contract")
    except limits.LimitExceeded as exc:
        raise ValidationError(str(exc), code=exc.code or "contract") from None
    value = expand(value)
    for section, keys in SECTIONS.items():
        if keys is None or section not in value:
            continue
        if not isinstance(value[section], dict):
            raise ValidationError(f"contract.{section} must be an object.", code="contract")
        extra = sorted(set(value[section]) - keys)
        if extra:
            raise ValidationError(f"Unknown contract.{section} keys: {', '.join(extra)} (use {', '.join(sorted(keys))}).",
                                  code="contract")
    _check_policy(value.get("policy") or {})
    _check_body(value.get("body") or {})
    _check_batch(value.get("batch") or {})
    if value.get("headers"):
        value["headers"] = _check_headers(value["headers"])
    return {name: value[name] for name in SECTIONS if value.get(name)}


def _number(where: str, value: Any, *, low: float, high: float, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        raise ValidationError(f"{where} must be {'an integer' if integer else 'a number'} from {low:g} to {high:g}; "
                              f"got {value!r}.", code="contract")


def _codes(where: str, value: Any) -> None:
    if not isinstance(value, list) or not value or not all(
            isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599 for code in value):
        raise ValidationError(f"{where} must be a non-empty list of HTTP status codes (100–599); got {value!r}.",
                              code="contract")


def _check_policy(policy: dict) -> None:
    settings = hookline_settings
    if "attempts" in policy:
        _number("policy.attempts", policy["attempts"], low=1, high=100, integer=True)
    if "delays" in policy:
        delays = policy["delays"]
        if not isinstance(delays, list) or not delays or len(delays) > MAX_DELAYS:
            raise ValidationError(f"policy.delays must be a list of 1 to {MAX_DELAYS} delays in seconds.", code="contract")
        for delay in delays:
            _number("each of policy.delays", delay, low=0, high=7 * 86400)
    for name in ("base_delay", "max_delay"):
        if name in policy:
            _number(f"policy.{name}", policy[name], low=0, high=7 * 86400)
    if "jitter" in policy:
        _number("policy.jitter", policy["jitter"], low=0, high=1)
    if "success" in policy:
        _codes("policy.success", policy["success"])
    retry_on = policy.get("retry_on")
    if retry_on is not None and retry_on not in RETRY_CHOICES:
        if isinstance(retry_on, str):
            raise ValidationError(f"policy.retry_on must be one of {', '.join(RETRY_CHOICES)} or a list of codes; "
                                  f"got {retry_on!r}.", code="contract")
        _codes("policy.retry_on", retry_on)
    if policy.get("on_exhaustion", "invalid") not in EXHAUSTION_CHOICES:
        raise ValidationError(f"policy.on_exhaustion must be 'invalid' (the endpoint becomes invalid) or 'delivery' "
                              f"(only the delivery fails); got {policy['on_exhaustion']!r}.", code="contract")
    for name in ("honour_retry_after", "gone_deactivates"):
        if name in policy and not isinstance(policy[name], bool):
            raise ValidationError(f"policy.{name} must be true or false.", code="contract")
    for name, bound in (("connect_timeout", settings.CONNECT_TIMEOUT), ("read_timeout", settings.READ_TIMEOUT)):
        if name in policy:
            _number(f"policy.{name} (at most HOOKLINE {name.upper()})", policy[name], low=0.1, high=bound)
    if "max_in_flight" in policy:
        _number("policy.max_in_flight", policy["max_in_flight"], low=1, high=MAX_IN_FLIGHT, integer=True)


def _check_body(body: dict) -> None:
    if len(repr(body)) > MAX_TEMPLATE_CHARS:
        raise ValidationError(f"contract.body (template and constants) is larger than {MAX_TEMPLATE_CHARS} characters.",
                              code="contract")
    shape = body.get("shape", ENVELOPE)
    if shape not in SHAPES:
        raise ValidationError(f"body.shape must be one of {', '.join(SHAPES)}; got {shape!r}.", code="contract")
    content_type = body.get("content_type", "application/json")
    if not isinstance(content_type, str) or not re.fullmatch(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.-]+=[\w.-]+)*", content_type):
        raise ValidationError(f"body.content_type is not a media type: {content_type!r}.", code="contract")
    constants = body.get("constants") or {}
    if not isinstance(constants, dict):
        raise ValidationError("body.constants must be an object.", code="contract")
    if body.get("id_format", "event") not in ID_FORMATS:
        raise ValidationError(f"body.id_format must be one of {', '.join(ID_FORMATS)}; got {body['id_format']!r}.",
                              code="contract")
    if shape == TEMPLATE:
        if "template" not in body:
            raise ValidationError("body.shape template needs body.template.", code="contract")
        _check_template(body["template"], constants, "body.template")
        check_template_size(body)
    elif "template" in body:
        raise ValidationError("body.template is used only with body.shape template.", code="contract")


def template_bound(template: Any, constants: dict) -> int:
    """The most bytes a template can render to: its own text, plus its placeholders at their largest.

    The payload is at most MAX_PAYLOAD_BYTES as serialised, and values at different paths are disjoint
    parts of it: ``{{data.a}}`` and ``{{data.b}}`` together take at most the payload, while ``{{data}}``
    and ``{{data.a}}`` (one inside the other) may take it twice. So the payload's share is its size times
    the heaviest chain of nested paths, each placeholder counted once per use (twice inside a longer
    string, where its text is escaped again). This refuses the 8 KB template repeating ``{{data}}``
    1,000 times (a 256 MB body per event) and accepts a template that picks many fields once.
    """
    fixed = {"id": 64, "type": 2 * limits.KEY_MAX_LENGTH, "timestamp": 64}
    total, uses, stack = len(json.dumps(template, separators=(",", ":"))), {}, [template]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            weight = 1 if PLACEHOLDER.fullmatch(node) else 2
            for match in PLACEHOLDER.finditer(node):
                root, _, rest = match.group(1).partition(".")
                if root == "data":
                    path = tuple(rest.split(".")) if rest else ()
                    uses[path] = uses.get(path, 0) + weight
                elif root == "const":
                    total += weight * len(json.dumps(constants.get(rest)))
                else:
                    total += weight * fixed.get(root, 0)
    heaviest_chain = max((sum(uses.get(path[:n], 0) for n in range(len(path) + 1)) for path in uses), default=0)
    return total + heaviest_chain * hookline_settings.MAX_PAYLOAD_BYTES


def check_template_size(body: dict) -> None:
    """Refuse a template body whose rendering could exceed HOOKLINE['MAX_REQUEST_BODY_BYTES']."""
    if body.get("shape") != TEMPLATE or "template" not in body:
        return
    try:
        limits.check_request_body_size(template_bound(body["template"], body.get("constants") or {}),
                                       where="body.template at its largest")
    except limits.LimitExceeded as exc:
        raise ValidationError(f"{exc} Each {{{{data…}}}} can be the whole payload (up to MAX_PAYLOAD_BYTES): "
                              "use fewer of them.", code=exc.code) from None


def _check_template(node: Any, constants: dict, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == SPREAD and not (isinstance(value, str) and PLACEHOLDER.fullmatch(value)):
                raise ValidationError(f"{where}: {SPREAD!r} takes one object placeholder such as \"{{{{data}}}}\".",
                                      code="contract")
            _check_template(value, constants, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_template(value, constants, f"{where}[{index}]")
    elif isinstance(node, str):
        for match in PLACEHOLDER.finditer(node):
            root, _, rest = match.group(1).partition(".")
            if root in ("id", "type", "timestamp") and not rest or root == "data":
                continue
            if root == "const" and rest in constants or match.group(1) == BODY_TOKEN:
                continue
            raise ValidationError(f"{where}: unknown placeholder {match.group(0)} (use {{{{id}}}}, {{{{type}}}}, "
                                  "{{timestamp}}, {{data}}, {{data.<field>}}, {{const.<name>}} of body.constants "
                                  "or {{secret.token}}, the endpoint's body token).", code="contract")
        if "{{" in PLACEHOLDER.sub("", node):
            raise ValidationError(f"{where}: an unfinished placeholder in {node!r}.", code="contract")


def _places(node: Any, placeholder: str) -> bool:
    """Does a template name this placeholder anywhere (as a whole string or inside one)?"""
    if isinstance(node, dict):
        return any(_places(value, placeholder) for value in node.values())
    if isinstance(node, list):
        return any(_places(value, placeholder) for value in node)
    return isinstance(node, str) and any(match.group(1) == placeholder for match in PLACEHOLDER.finditer(node))


def _check_headers(headers: Any) -> dict[str, str]:
    try:
        return static_headers.check(headers, where="contract.headers")
    except ValidationError as exc:
        raise ValidationError(exc.messages[0], code="contract") from None


def _check_batch(batch: dict) -> None:
    if "max_count" in batch:
        _number("batch.max_count", batch["max_count"], low=1, high=MAX_BATCH, integer=True)
    if "max_wait" in batch:
        _number("batch.max_wait (seconds)", batch["max_wait"], low=0, high=MAX_BATCH_WAIT)


def describe(contract: Contract) -> str:
    """One line for the inspector and the endpoint page: which policy applies."""
    policy = contract.policy
    parts = [f"preset {contract.preset}" if contract.preset else "HOOKLINE defaults" if contract == DEFAULT else "custom"]
    parts.append(f"{policy.max_attempts} attempts")
    if policy.delays:
        parts.append("delays " + ",".join(f"{d:g}" for d in policy.delays) + " s")
    parts.append("success " + (",".join(map(str, sorted(policy.success))) if policy.success else "2xx"))
    retry_on = policy.retry_on or hookline_settings.RETRY_POLICY
    parts.append("retry " + (",".join(map(str, sorted(retry_on))) if isinstance(retry_on, frozenset) else retry_on))
    parts.append("exhaustion: " + ("endpoint invalid" if policy.on_exhaustion == "invalid" else "delivery fails"))
    if not policy.gone_deactivates:
        parts.append("410 not special")
    parts.append(f"body {contract.body.shape}")
    if contract.body.id_format != "event":
        parts.append(f"ids {contract.body.id_format}")
    if contract.headers:
        parts.append("headers " + ", ".join(contract.headers))
    if contract.batch.enabled:
        parts.append(f"batches of up to {contract.batch.max_count} within {contract.batch.max_wait:g} s")
    return "; ".join(parts)
