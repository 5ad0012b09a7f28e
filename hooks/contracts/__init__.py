"""An endpoint's delivery contract: every delivery option in one validated value, its presets, and ``effective()``.

Sections: ``policy`` (which answers succeed, what is retried and when, timeouts), ``body`` (shape, template,
payload version), ``batch``, ``control`` (rate limit, circuit breaker, FIFO), ``request`` (static headers,
proxy) and ``signature`` (which schemes sign). ``OPTIONS`` describes each option once: the admin form and
the API's flat fields are made from it. Defaults come from the HOOKLINE settings in ``effective()`` only.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.core.exceptions import ValidationError

from hookline import limits
from hookline.conf import hookline_settings

from .urlguard import UnsafeURL, check_proxy_url

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
    "attempts",
    "delays",
    "base_delay",
    "max_delay",
    "jitter",
    "honour_retry_after",
    "success",
    "retry_on",
    "on_exhaustion",
    "gone_deactivates",
    "connect_timeout",
    "read_timeout",
    "test_on_save",
    "max_in_flight",
}
MAX_IN_FLIGHT = 1000
BODY_KEYS = {"shape", "template", "constants", "content_type", "payload_version", "id_format"}
BATCH_KEYS = {"max_count", "max_wait"}
CONTROL_KEYS = {"rate_limit", "rate_limit_burst", "ordered", "breaker_threshold", "breaker_cooldown"}
REQUEST_KEYS = {"headers", "proxy_url", "user_agent"}
SIGNATURE_KEYS = {"standard", "github", "asymmetric", "shared_secret_header"}
SECTIONS = {
    "preset": None,
    "policy": POLICY_KEYS,
    "body": BODY_KEYS,
    "batch": BATCH_KEYS,
    "control": CONTROL_KEYS,
    "request": REQUEST_KEYS,
    "signature": SIGNATURE_KEYS,
}
PARTS = tuple(name for name in SECTIONS if name != "preset")
_OPTION_IN_MESSAGE = re.compile(rf"\b(?:{'|'.join(PARTS)})\.[a-z_]+")
# Headers an endpoint's static headers may not override: they carry the signatures and the framing.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "x-hub-signature-256",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "proxy-authorization",
    }
)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")  # an RFC 9110 token
PAYLOAD_VERSION_MAX = 50
PROXY_URL_MAX = 500
USER_AGENT_MAX = 200

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


class ContractError(ValidationError):
    """A refused contract value; ``option`` names the option it is about ("section.key"), for the form field."""

    def __init__(self, message: str, *, option: str = "", code: str = "contract"):
        super().__init__(message, code=code)
        found = _OPTION_IN_MESSAGE.search(message)
        self.option = option or (found.group(0) if found else "")


@dataclass(frozen=True)
class Policy:
    """The retry policy of one endpoint; None/empty fields fall back to the HOOKLINE settings (see ``effective``)."""

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
    test_on_save: bool = False  # test on create and on a URL change; the answer sets the state (ricloud)

    @property
    def max_attempts(self) -> int:
        return self.effective().attempts

    def timeouts(self) -> tuple[float, float]:
        """(connect, read), never above the global bounds."""
        resolved = self.effective()
        return resolved.connect_timeout, resolved.read_timeout

    @property
    def own_timeouts(self) -> bool:
        """Whether the endpoint sets a timeout of its own (else the transport's defaults apply)."""
        return bool(self.connect_timeout or self.read_timeout)

    def effective(self) -> Policy:
        """This policy with every unset value resolved from the HOOKLINE settings."""
        return _cached(self, self._resolve)

    def _resolve(self) -> Policy:
        settings = hookline_settings
        attempts = self.attempts or (len(self.delays) + 1 if self.delays else settings.MAX_ATTEMPTS)
        return replace(
            self,
            attempts=attempts,
            base_delay=settings.RETRY_BASE_DELAY if self.base_delay is None else self.base_delay,
            max_delay=settings.RETRY_MAX_DELAY if self.max_delay is None else self.max_delay,
            jitter=settings.RETRY_JITTER if self.jitter is None else self.jitter,
            retry_on=self.retry_on or settings.RETRY_POLICY,
            connect_timeout=min(self.connect_timeout or settings.CONNECT_TIMEOUT, settings.CONNECT_TIMEOUT),
            read_timeout=min(self.read_timeout or settings.READ_TIMEOUT, settings.READ_TIMEOUT),
        )


@dataclass(frozen=True)
class Body:
    shape: str = ENVELOPE
    template: Any = None
    constants: dict | None = None
    content_type: str = "application/json"
    id_format: str = "event"
    payload_version: str = ""  # older receivers keep an older payload shape (events' transformers); "" = current

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
class Control:
    """Delivery control (deliveries/control.py); what the workers keep about it lives in deliveries, not here."""

    rate_limit: int | None = None  # deliveries per second across all workers; None/0 = no limit
    rate_limit_burst: int | None = None  # None: one second's worth
    ordered: bool = False  # FIFO: one delivery in flight, in event order
    breaker_threshold: int | None = None  # None: HOOKLINE BREAKER_THRESHOLD; 0 = off
    breaker_cooldown: float | None = None  # None: HOOKLINE BREAKER_COOLDOWN


@dataclass(frozen=True)
class Request:
    headers: dict = field(default_factory=dict)  # static headers; never the ones Hookline sets
    proxy_url: str = ""  # "" = HOOKLINE PROXY
    user_agent: str = ""  # "" = Hookline/<version>


@dataclass(frozen=True)
class Signature:
    standard: bool = True  # webhook-signature v1 (Standard Webhooks)
    github: bool = False  # X-Hub-Signature-256
    asymmetric: bool = False  # webhook-signature v1a (ed25519); the key pair lives on the endpoint
    shared_secret_header: str = ""  # the plain secret (or the customer's value) in this header


@dataclass(frozen=True)
class Contract:
    preset: str = ""
    policy: Policy = Policy()
    body: Body = Body()
    batch: Batch = Batch()
    control: Control = Control()
    request: Request = Request()
    signature: Signature = Signature()

    def effective(self) -> Contract:
        """The one place defaults are resolved: this contract with every unset value taken from HOOKLINE."""
        return _cached(self, self._resolve)

    def _resolve(self) -> Contract:
        settings = hookline_settings
        control, rate = self.control, self.control.rate_limit or None
        threshold = settings.BREAKER_THRESHOLD if control.breaker_threshold is None else control.breaker_threshold
        return replace(
            self,
            policy=self.policy.effective(),
            control=replace(
                control,
                rate_limit=rate,
                rate_limit_burst=(control.rate_limit_burst or max(1, rate)) if rate else None,
                breaker_threshold=threshold,
                breaker_cooldown=float(
                    settings.BREAKER_COOLDOWN if control.breaker_cooldown is None else control.breaker_cooldown
                ),
            ),
            request=replace(
                self.request,
                proxy_url=self.request.proxy_url or settings.PROXY,
                user_agent=self.request.user_agent or default_user_agent(),
            ),
        )

    @property
    def controlled(self) -> bool:
        """Whether deliveries go through delivery control's admission for the options alone (FIFO, rate limit)."""
        return bool(self.control.ordered or self.control.rate_limit)


def _cached(value, resolve):
    """``resolve()`` once per value and settings generation: a worker resolves each endpoint's contract once,
    not once per delivery (the parsed contract lives as long as the loaded endpoint row)."""
    generation = hookline_settings.generation
    cached = value.__dict__.get("_effective")
    if cached is None or cached[0] != generation:
        cached = (generation, resolve())
        object.__setattr__(value, "_effective", cached)  # a frozen dataclass: the cache is not a field
    return cached[1]


DEFAULT = Contract()
SECTION_TYPES = {
    "policy": Policy,
    "body": Body,
    "batch": Batch,
    "control": Control,
    "request": Request,
    "signature": Signature,
}


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
        preset=value.get("preset", ""),
        policy=Policy(**policy),
        **{name: SECTION_TYPES[name](**(value.get(name) or {})) for name in PARTS if name != "policy"},
    )


# --- the options, each described once (the admin form's fields and the API's flat fields) ---------------


@dataclass(frozen=True)
class Option:
    """One option of the contract: where it is stored, how it is entered, and what it defaults to."""

    section: str
    key: str
    label: str
    kind: str  # int, float, bool, text, choice, codes, delays, retry_on, headers, json
    help: str = ""
    default: str = ""  # the default in words, shown next to the field ("" = the dataclass default)
    choices: tuple[str, ...] = ()
    flat: str = ""  # the endpoint field this option had before Architecture II (API and form compatibility)

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def name(self) -> str:
        """The form field's and (with ``flat``) the API field's name."""
        return self.flat or f"{self.section}_{self.key}"


OPTIONS: tuple[Option, ...] = (
    Option(
        "policy",
        "attempts",
        "attempts",
        "int",
        "Attempts per delivery, the first included.",
        default="HOOKLINE MAX_ATTEMPTS, or one more than the delays",
    ),
    Option(
        "policy",
        "delays",
        "delays (s)",
        "delays",
        "Explicit seconds between attempts, e.g. 300, 300, 300; empty: an exponential countdown with jitter.",
    ),
    Option(
        "policy",
        "base_delay",
        "base delay (s)",
        "float",
        "The exponential countdown's start.",
        default="HOOKLINE RETRY_BASE_DELAY",
    ),
    Option(
        "policy",
        "max_delay",
        "maximum delay (s)",
        "float",
        "The countdown's (and Retry-After's) cap.",
        default="HOOKLINE RETRY_MAX_DELAY",
    ),
    Option(
        "policy", "jitter", "jitter", "float", "0 to 1: how far each delay may stray.", default="HOOKLINE RETRY_JITTER"
    ),
    Option("policy", "success", "success codes", "codes", "Statuses that succeed, e.g. 200; empty: any 2xx."),
    Option(
        "policy",
        "retry_on",
        "retry on",
        "retry_on",
        "all (every failure), server-errors (5xx, 408, 429), 5xx, or a list of codes.",
        default="HOOKLINE RETRY_POLICY",
        choices=RETRY_CHOICES,
    ),
    Option(
        "policy",
        "on_exhaustion",
        "when retries run out",
        "choice",
        "invalid: the endpoint becomes invalid; delivery: only the delivery fails.",
        choices=EXHAUSTION_CHOICES,
    ),
    Option("policy", "gone_deactivates", "410 Gone deactivates", "bool", "A 410 answer turns the endpoint off."),
    Option(
        "policy",
        "honour_retry_after",
        "honour Retry-After",
        "bool",
        "Wait as long as the receiver asks (up to the cap).",
    ),
    Option(
        "policy",
        "connect_timeout",
        "connect timeout (s)",
        "float",
        "At most the global bound.",
        default="HOOKLINE CONNECT_TIMEOUT",
    ),
    Option(
        "policy",
        "read_timeout",
        "read timeout (s)",
        "float",
        "At most the global bound.",
        default="HOOKLINE READ_TIMEOUT",
    ),
    Option(
        "policy",
        "test_on_save",
        "test on create and URL change",
        "bool",
        "Send a test event right after the endpoint is created or its URL changes; the answer sets its state.",
        flat="test_on_save",
    ),
    Option(
        "body",
        "shape",
        "body shape",
        "choice",
        "envelope ({type, timestamp, data}), payload (the data alone) or template (below).",
        choices=SHAPES,
    ),
    Option(
        "body",
        "template",
        "body template",
        "json",
        "JSON with placeholders {{id}}, {{type}}, {{timestamp}}, "
        '{{data}}, {{data.<field>}}, {{const.<name>}}; "...": "{{data}}" merges an object in.',
    ),
    Option(
        "body", "constants", "template constants", "json", "An object of values the template uses as {{const.<name>}}."
    ),
    Option("body", "content_type", "content type", "text", "The request's media type."),
    Option(
        "body",
        "payload_version",
        "payload version",
        "text",
        "Older receivers can keep an older payload shape (e.g. v1); empty means the current one.",
        flat="payload_version",
    ),
    Option("batch", "max_count", "batch size", "int", "Events per POST (a JSON array) when above 1."),
    Option("batch", "max_wait", "batch wait (s)", "float", "How long a batch waits for company."),
    Option(
        "control",
        "rate_limit",
        "rate limit (per second)",
        "int",
        "At most this many deliveries per second, across all workers.",
        default="no limit",
        flat="rate_limit",
    ),
    Option(
        "control",
        "rate_limit_burst",
        "burst",
        "int",
        "Deliveries that may go at once after a quiet spell.",
        default="one second's worth",
        flat="rate_limit_burst",
    ),
    Option(
        "control",
        "ordered",
        "FIFO order",
        "bool",
        "One delivery in flight at a time, in event order; a retrying delivery holds those behind it.",
        flat="ordered",
    ),
    Option(
        "control",
        "breaker_threshold",
        "breaker threshold",
        "int",
        "Consecutive failed attempts that open the circuit breaker; 0 = off.",
        default="HOOKLINE BREAKER_THRESHOLD",
        flat="breaker_threshold",
    ),
    Option(
        "control",
        "breaker_cooldown",
        "breaker cool-down (s)",
        "int",
        "Seconds an open breaker waits before one probe delivery.",
        default="HOOKLINE BREAKER_COOLDOWN",
        flat="breaker_cooldown",
    ),
    Option(
        "request",
        "headers",
        "extra headers",
        "headers",
        "Static headers sent with every request, one "
        '"Name: value" per line (the signature headers cannot be overridden).',
        flat="headers",
    ),
    Option(
        "request",
        "proxy_url",
        "proxy",
        "text",
        "Outbound proxy for this endpoint.",
        default="HOOKLINE PROXY",
        flat="proxy_url",
    ),
    Option(
        "request",
        "user_agent",
        "User-Agent",
        "text",
        "The User-Agent header, for receivers that allow-list or route by it.",
        default="Hookline/(the installed version)",
    ),
    Option(
        "signature",
        "standard",
        "Standard Webhooks signature",
        "bool",
        "Send webhook-signature (v1, HMAC-SHA256).",
        flat="standard_signature",
    ),
    Option(
        "signature",
        "asymmetric",
        "asymmetric signature (v1a)",
        "bool",
        "Also sign with ed25519; receivers verify with the public key (whpk_…).",
        flat="asymmetric_signature",
    ),
    Option(
        "signature",
        "github",
        "GitHub signature",
        "bool",
        "Also send X-Hub-Signature-256: sha256=<hex HMAC of body>.",
        flat="github_signature",
    ),
    Option(
        "signature",
        "shared_secret_header",
        "shared-secret header",
        "text",
        "If set, the plain secret is sent in this header (e.g. X-OBC-Secret).",
        flat="shared_secret_header",
    ),
)
OPTION_BY_PATH = {option.path: option for option in OPTIONS}
FLAT_OPTIONS = {option.flat: option for option in OPTIONS if option.flat}


def default_of(option: Option) -> Any:
    """The option's value when the contract does not set it (before the settings are applied)."""
    return getattr(getattr(DEFAULT, option.section), option.key)


def value_of(contract: dict, option: Option, fallback: Any = None) -> Any:
    return (contract.get(option.section) or {}).get(option.key, fallback)


def with_flat(contract: dict | None, flat: dict[str, Any]) -> dict:
    """``contract`` with the flat (pre-Architecture II) option fields set into their sections; None/"" unsets."""
    merged = {name: dict(value) if isinstance(value, dict) else value for name, value in (contract or {}).items()}
    for name, value in flat.items():
        option = FLAT_OPTIONS[name]
        section = merged.setdefault(option.section, {})
        if value is None or value == "" or (option.kind == "headers" and not value):
            section.pop(option.key, None)
        else:
            section[option.key] = value
    return {name: value for name, value in merged.items() if value not in ({}, None, "")}


def expand(value: dict | None) -> dict:
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


def validate_contract(value: Any) -> dict:
    """The stored form of a contract: the preset expanded, every value checked; raises ValidationError with a clear message."""
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("The delivery contract must be a JSON object.", code="contract")
    unknown = sorted(set(value) - set(SECTIONS))
    if unknown:
        raise ValidationError(
            f"Unknown contract sections: {', '.join(unknown)} (use {', '.join(SECTIONS)}).", code="contract"
        )
    if not isinstance(value.get("preset", ""), str):
        raise ValidationError("contract.preset must be a preset's name.", code="contract")
    for section in PARTS:
        if section in value and not isinstance(value[section], dict):
            raise ValidationError(f"contract.{section} must be an object.", code="contract")
    # Headers first: their own checks say more (a NUL is a control character in a header value).
    _check_signature(value.get("signature") or {})
    _check_request(value.get("request") or {}, (value.get("signature") or {}).get("shared_secret_header", ""))
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
            raise ValidationError(
                f"Unknown contract.{section} keys: {', '.join(extra)} (use {', '.join(sorted(keys))}).", code="contract"
            )
    _check_policy(value.get("policy") or {})
    _check_body(value.get("body") or {})
    _check_batch(value.get("batch") or {})
    _check_control(value.get("control") or {})
    signature = value.get("signature") or {}
    _check_signature(signature)
    _check_request(value.get("request") or {}, signature.get("shared_secret_header", ""))
    return {name: value[name] for name in SECTIONS if value.get(name)}


def _number(where: str, value: Any, *, low: float, high: float, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        raise ContractError(
            f"{where} must be {'an integer' if integer else 'a number'} from {low:g} to {high:g}; got {value!r}."
        )


def _codes(where: str, value: Any) -> None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599 for code in value)
    ):
        raise ContractError(f"{where} must be a non-empty list of HTTP status codes (100–599); got {value!r}.")


def _check_policy(policy: dict) -> None:
    settings = hookline_settings
    if "attempts" in policy:
        _number("policy.attempts", policy["attempts"], low=1, high=100, integer=True)
    if "delays" in policy:
        delays = policy["delays"]
        if not isinstance(delays, list) or not delays or len(delays) > MAX_DELAYS:
            raise ContractError(f"policy.delays must be a list of 1 to {MAX_DELAYS} delays in seconds.")
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
            raise ContractError(
                f"policy.retry_on must be one of {', '.join(RETRY_CHOICES)} or a list of codes; got {retry_on!r}."
            )
        _codes("policy.retry_on", retry_on)
    if policy.get("on_exhaustion", "invalid") not in EXHAUSTION_CHOICES:
        raise ContractError(
            f"policy.on_exhaustion must be 'invalid' (the endpoint becomes invalid) or 'delivery' "
            f"(only the delivery fails); got {policy['on_exhaustion']!r}."
        )
    for name in ("honour_retry_after", "gone_deactivates", "test_on_save"):
        if name in policy and not isinstance(policy[name], bool):
            raise ContractError(f"policy.{name} must be true or false.")
    for name, bound in (("connect_timeout", settings.CONNECT_TIMEOUT), ("read_timeout", settings.READ_TIMEOUT)):
        if name in policy:
            _number(f"policy.{name} (at most HOOKLINE {name.upper()})", policy[name], low=0.1, high=bound)
    if "max_in_flight" in policy:
        _number("policy.max_in_flight", policy["max_in_flight"], low=1, high=MAX_IN_FLIGHT, integer=True)


def _check_body(body: dict) -> None:
    if len(repr(body)) > MAX_TEMPLATE_CHARS:
        raise ContractError(f"contract.body (template and constants) is larger than {MAX_TEMPLATE_CHARS} characters.")
    shape = body.get("shape", ENVELOPE)
    if shape not in SHAPES:
        raise ContractError(f"body.shape must be one of {', '.join(SHAPES)}; got {shape!r}.")
    content_type = body.get("content_type", "application/json")
    if not isinstance(content_type, str) or not re.fullmatch(
        r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.-]+=[\w.-]+)*", content_type
    ):
        raise ContractError(f"body.content_type is not a media type: {content_type!r}.")
    version = body.get("payload_version", "")
    if not isinstance(version, str) or len(version) > PAYLOAD_VERSION_MAX:
        raise ContractError(
            f"body.payload_version must be a version name of at most {PAYLOAD_VERSION_MAX} characters.",
            code="too_long" if isinstance(version, str) else "contract",
        )
    if version:
        try:
            limits.check_text(version, where="payload_version", max_length=PAYLOAD_VERSION_MAX)
        except limits.LimitExceeded as exc:
            raise ContractError(str(exc), option="body.payload_version", code=exc.code or "contract") from None
    constants = body.get("constants") or {}
    if not isinstance(constants, dict):
        raise ContractError("body.constants must be an object.")
    if body.get("id_format", "event") not in ID_FORMATS:
        raise ContractError(f"body.id_format must be one of {', '.join(ID_FORMATS)}; got {body['id_format']!r}.")
    if shape == TEMPLATE:
        if "template" not in body:
            raise ContractError("body.shape template needs body.template.")
        _check_template(body["template"], constants, "body.template")
        check_template_size(body)
    elif "template" in body:
        raise ContractError("body.template is used only with body.shape template.")


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
        limits.check_request_body_size(
            template_bound(body["template"], body.get("constants") or {}), where="body.template at its largest"
        )
    except limits.LimitExceeded as exc:
        raise ValidationError(
            f"{exc} Each {{{{data…}}}} can be the whole payload (up to MAX_PAYLOAD_BYTES): use fewer of them.",
            code=exc.code,
        ) from None


def _check_template(node: Any, constants: dict, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == SPREAD and not (isinstance(value, str) and PLACEHOLDER.fullmatch(value)):
                raise ContractError(
                    f'{where}: {SPREAD!r} takes one object placeholder such as "{{{{data}}}}".', code="contract"
                )
            _check_template(value, constants, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_template(value, constants, f"{where}[{index}]")
    elif isinstance(node, str):
        for match in PLACEHOLDER.finditer(node):
            root, _, rest = match.group(1).partition(".")
            if (root in ("id", "type", "timestamp") and not rest) or root == "data":
                continue
            if (root == "const" and rest in constants) or match.group(1) == BODY_TOKEN:
                continue
            raise ContractError(
                f"{where}: unknown placeholder {match.group(0)} (use {{{{id}}}}, {{{{type}}}}, "
                "{{timestamp}}, {{data}}, {{data.<field>}}, {{const.<name>}} of body.constants "
                "or {{secret.token}}, the endpoint's body token)."
            )
        if "{{" in PLACEHOLDER.sub("", node):
            raise ContractError(f"{where}: an unfinished placeholder in {node!r}.")


def _places(node: Any, placeholder: str) -> bool:
    """Does a template name this placeholder anywhere (as a whole string or inside one)?"""
    if isinstance(node, dict):
        return any(_places(value, placeholder) for value in node.values())
    if isinstance(node, list):
        return any(_places(value, placeholder) for value in node)
    return isinstance(node, str) and any(match.group(1) == placeholder for match in PLACEHOLDER.finditer(node))


def _check_batch(batch: dict) -> None:
    if "max_count" in batch:
        _number("batch.max_count", batch["max_count"], low=1, high=MAX_BATCH, integer=True)
    if "max_wait" in batch:
        _number("batch.max_wait (seconds)", batch["max_wait"], low=0, high=MAX_BATCH_WAIT)


def describe(contract: Contract) -> str:
    """One line for the inspector and the endpoint page: which policy applies."""
    policy = contract.policy
    parts = [
        f"preset {contract.preset}" if contract.preset else "HOOKLINE defaults" if contract == DEFAULT else "custom"
    ]
    parts.append(f"{policy.max_attempts} attempts")
    if policy.delays:
        parts.append("delays " + ",".join(f"{d:g}" for d in policy.delays) + " s")
    parts.append("success " + (",".join(map(str, sorted(policy.success))) if policy.success else "2xx"))
    retry_on = policy.effective().retry_on
    parts.append("retry " + (",".join(map(str, sorted(retry_on))) if isinstance(retry_on, frozenset) else retry_on))
    parts.append("exhaustion: " + ("endpoint invalid" if policy.on_exhaustion == "invalid" else "delivery fails"))
    if not policy.gone_deactivates:
        parts.append("410 not special")
    parts.append(f"body {contract.body.shape}")
    if contract.body.id_format != "event":
        parts.append(f"ids {contract.body.id_format}")
    if contract.body.payload_version:
        parts.append(f"payload {contract.body.payload_version}")
    if contract.batch.enabled:
        parts.append(f"batches of up to {contract.batch.max_count} within {contract.batch.max_wait:g} s")
    control = contract.control
    if control.rate_limit:
        parts.append(f"at most {control.rate_limit}/s")
    if control.ordered:
        parts.append("FIFO")
    return "; ".join(parts)


# The control options' real limits: checked here, announced by the admin form and the API schema.
MAXIMA = {
    "control.rate_limit": 100_000,
    "control.rate_limit_burst": 1_000_000,
    "control.breaker_threshold": 10_000,
    "control.breaker_cooldown": 7 * 86400,
}


def _check_control(control: dict) -> None:
    for path, high in MAXIMA.items():
        name = path.partition(".")[2]
        if control.get(name) is not None:
            _number(path, control[name], low=0, high=high, integer=True)
    if "ordered" in control and not isinstance(control["ordered"], bool):
        raise ContractError("control.ordered must be true or false.")


def _check_signature(signature: dict) -> None:
    for name in ("standard", "github", "asymmetric"):
        if name in signature and not isinstance(signature[name], bool):
            raise ContractError(f"signature.{name} must be true or false.")
    if "shared_secret_header" in signature:
        signature["shared_secret_header"] = validate_shared_secret_header(signature["shared_secret_header"])


def _check_request(request: dict, shared_secret_header: str) -> None:
    if "headers" in request:
        request["headers"] = validate_headers(request["headers"], shared_secret_header)
    if "proxy_url" in request:
        request["proxy_url"] = validate_proxy_url(request["proxy_url"])
    if "user_agent" in request:
        agent = request["user_agent"]
        if not isinstance(agent, str) or len(agent) > USER_AGENT_MAX or not agent.isprintable():
            raise ContractError(f"request.user_agent must be printable text of at most {USER_AGENT_MAX} characters.")
        request["user_agent"] = agent.strip()


@lru_cache(maxsize=1)
def default_user_agent() -> str:
    try:
        return f"Hookline/{version('hookline')}"
    except PackageNotFoundError:
        return "Hookline/dev"


def validate_shared_secret_header(name: Any) -> str:
    if not isinstance(name, str):
        raise ContractError("signature.shared_secret_header must be a header name.", code="shared_secret_header")
    name = name.strip()
    if name and not HEADER_NAME.fullmatch(name):
        raise ContractError(
            f"{name!r} is not a valid header name.",
            option="signature.shared_secret_header",
            code="shared_secret_header",
        )
    if name.lower() in RESERVED_HEADERS:
        raise ContractError(
            f"{name} is set by Hookline; choose another shared-secret header.",
            option="signature.shared_secret_header",
            code="shared_secret_header",
        )
    return name


def validate_headers(headers: Any, shared_secret_header: str = "") -> dict[str, str]:
    """Static headers: names that are tokens and not Hookline's own, values without line breaks, within the limits."""

    def refuse(message: str) -> ContractError:
        return ContractError(message, option="request.headers", code="headers")

    if not isinstance(headers, dict):
        raise refuse("Extra headers must be an object of name: value.")
    reserved = RESERVED_HEADERS | ({shared_secret_header.lower()} if shared_secret_header else set())
    clash = sorted(name for name in headers if name.lower() in reserved)
    if clash:
        raise refuse(f"These headers are set by Hookline and cannot be overridden: {', '.join(clash)}.")
    invalid = sorted(str(name) for name in headers if not HEADER_NAME.fullmatch(str(name)))
    if invalid:
        raise refuse(f"Not valid header names: {', '.join(map(repr, invalid))}.")
    # A CR or LF in a value would let a stored header smuggle more headers into every request.
    broken = sorted(name for name, value in headers.items() if any(ord(ch) < 32 and ch != "\t" for ch in str(value)))
    if broken:
        raise refuse(f"Header values cannot contain line breaks or control characters: {', '.join(broken)}.")
    try:  # count, total size, valid Unicode
        limits.check_static_headers(headers)
    except limits.LimitExceeded as exc:
        raise ContractError(str(exc), option="request.headers", code=exc.code or "headers") from None
    return {str(name): str(value) for name, value in headers.items()}


def validate_proxy_url(url: Any) -> str:
    """An endpoint's own proxy: checked like its URL (a tenant-chosen proxy is an SSRF target too)."""
    if not isinstance(url, str):
        raise ContractError("request.proxy_url must be a URL.", code="unsafe_proxy")
    url = url.strip()
    if len(url) > PROXY_URL_MAX:
        raise ContractError(f"request.proxy_url is longer than {PROXY_URL_MAX} characters.", code="too_long")
    if url:
        try:
            check_proxy_url(url)
        except UnsafeURL as exc:
            raise ContractError(str(exc), option="request.proxy_url", code="unsafe_proxy") from exc
    return url
