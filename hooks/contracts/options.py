"""The options of a contract, each described once: the admin form's typed fields and the API's flat fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .value import DEFAULT, EXHAUSTION_CHOICES, RETRY_CHOICES, SHAPES


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
    # Bounds of an int or float option, checked by validation from here alone; ``high`` may name the HOOKLINE
    # setting that bounds it (read when a contract is checked). None: the option has a check of its own.
    low: float = 0
    high: float | str | None = None

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
    Option(
        "body",
        "max_bytes",
        "maximum body size (bytes)",
        "int",
        "The largest request body this receiver accepts (e.g. its gateway's limit): a larger body is not sent and "
        "its delivery fails at once with the reason, instead of being retried into the same refusal.",
        default="HOOKLINE MAX_REQUEST_BODY_BYTES",
        low=1,
        high="MAX_REQUEST_BODY_BYTES",
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
        high=100_000,
    ),
    Option(
        "control",
        "rate_limit_burst",
        "burst",
        "int",
        "Deliveries that may go at once after a quiet spell.",
        default="one second's worth",
        flat="rate_limit_burst",
        high=1_000_000,
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
        high=10_000,
    ),
    Option(
        "control",
        "breaker_cooldown",
        "breaker cool-down (s)",
        "int",
        "Seconds an open breaker waits before one probe delivery.",
        default="HOOKLINE BREAKER_COOLDOWN",
        flat="breaker_cooldown",
        high=7 * 86400,
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


def value_of(contract: dict[str, Any], option: Option, fallback: Any = None) -> Any:
    return (contract.get(option.section) or {}).get(option.key, fallback)


def with_flat(contract: dict[str, Any] | None, flat: dict[str, Any]) -> dict[str, Any]:
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


# The fixed upper bounds, announced by the admin form and the API schema (validation checks them).
MAXIMA = {option.path: option.high for option in OPTIONS if isinstance(option.high, int | float)}
