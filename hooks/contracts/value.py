"""The Contract value: every delivery option of one endpoint, parsed from its stored JSON, and ``effective()``.

Sections: ``policy`` (which answers succeed, what is retried and when, timeouts), ``body`` (shape, template,
payload version), ``batch``, ``control`` (rate limit, circuit breaker, FIFO), ``request`` (static headers,
proxy) and ``signature`` (which schemes sign). Defaults come from the HOOKLINE settings in ``effective()`` only,
which returns a ``ResolvedContract``: the same sections with every default filled in, typed so (no Optional left
where the settings give a value), so that its readers never meet an unset value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

from hookline.conf import hookline_settings

# What the envelope is called where a contract names its body shape.
ENVELOPE, PAYLOAD, TEMPLATE = "envelope", "payload", "template"
SHAPES = (ENVELOPE, PAYLOAD, TEMPLATE)
RETRY_CHOICES = ("all", "server-errors", "5xx")
EXHAUSTION_CHOICES = ("invalid", "delivery")  # the endpoint becomes invalid / only the delivery fails
# A template placeholder is a whole string, or a part of one: {{id}}, {{type}}, {{timestamp}},
# {{data}}, {{data.a.b}}, {{const.name}}, {{secret.token}}. Nothing else is evaluated: templates are data, not code.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")
SPREAD = "..."  # a template key whose value (an object placeholder) is merged into the object
# What {{id}} is in a template: the event id (msg_…), or a GUID made from it (the same for every
# attempt, batch retry and redelivery of the event), lower- or upper-case.
ID_FORMATS = ("event", "uuid", "uuid-upper")
BODY_TOKEN = "secret.token"  # the endpoint's body token (Webhook.body_token), encrypted at rest


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

    def effective(self) -> ResolvedPolicy:
        """This policy with every unset value resolved from the HOOKLINE settings."""
        return _cached(self, self._resolve)

    def _resolve(self) -> ResolvedPolicy:
        settings = hookline_settings
        attempts = self.attempts or (len(self.delays) + 1 if self.delays else settings.MAX_ATTEMPTS)
        return ResolvedPolicy(
            attempts=attempts,
            delays=self.delays,
            base_delay=settings.RETRY_BASE_DELAY if self.base_delay is None else self.base_delay,
            max_delay=settings.RETRY_MAX_DELAY if self.max_delay is None else self.max_delay,
            jitter=settings.RETRY_JITTER if self.jitter is None else self.jitter,
            honour_retry_after=self.honour_retry_after,
            success=self.success,
            retry_on=self.retry_on or settings.RETRY_POLICY,
            on_exhaustion=self.on_exhaustion,
            gone_deactivates=self.gone_deactivates,
            connect_timeout=min(self.connect_timeout or settings.CONNECT_TIMEOUT, settings.CONNECT_TIMEOUT),
            read_timeout=min(self.read_timeout or settings.READ_TIMEOUT, settings.READ_TIMEOUT),
            max_in_flight=self.max_in_flight,
            test_on_save=self.test_on_save,
        )


@dataclass(frozen=True)
class ResolvedPolicy:
    """A Policy with its defaults resolved (what ``Policy.effective()`` returns): the same fields, none left to the
    settings. ``max_in_flight`` stays optional: deliveries.senders applies its setting (per worker process)."""

    attempts: int
    delays: tuple[float, ...]
    base_delay: float
    max_delay: float
    jitter: float
    honour_retry_after: bool
    success: frozenset[int]  # empty: any 2xx
    retry_on: str | frozenset[int]
    on_exhaustion: str
    gone_deactivates: bool
    connect_timeout: float
    read_timeout: float
    max_in_flight: int | None
    test_on_save: bool


@dataclass(frozen=True)
class Body:
    shape: str = ENVELOPE
    template: Any = None  # JSON with placeholders (validation checks it)
    constants: dict[str, Any] | None = None
    content_type: str = "application/json"
    id_format: str = "event"
    payload_version: str = ""  # older receivers keep an older payload shape (events' transformers); "" = current
    max_bytes: int | None = None  # the largest body this receiver accepts; None: HOOKLINE MAX_REQUEST_BODY_BYTES

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
class ResolvedControl:
    """Control with its defaults resolved (``Contract.effective().control``)."""

    rate_limit: int | None  # None: no limit (a stored 0 is None here)
    rate_limit_burst: int | None  # set whenever rate_limit is
    ordered: bool
    breaker_threshold: int  # 0 = off
    breaker_cooldown: float

    @property
    def bucket(self) -> tuple[int, int] | None:
        """(rate per second, burst) of the endpoint's token bucket (deliveries.buckets); None: no rate limit."""
        if self.rate_limit is None or self.rate_limit_burst is None:
            return None
        return self.rate_limit, self.rate_limit_burst


@dataclass(frozen=True)
class Request:
    headers: dict[str, str] = field(default_factory=dict)  # static headers; never the ones Hookline sets
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

    def effective(self) -> ResolvedContract:
        """The one place defaults are resolved: this contract with every unset value taken from HOOKLINE."""
        return _cached(self, self._resolve)

    def _resolve(self) -> ResolvedContract:
        settings = hookline_settings
        control, rate = self.control, self.control.rate_limit or None
        threshold = settings.BREAKER_THRESHOLD if control.breaker_threshold is None else control.breaker_threshold
        return ResolvedContract(
            preset=self.preset,
            policy=self.policy.effective(),
            body=self.body,
            batch=self.batch,
            control=ResolvedControl(
                rate_limit=rate,
                rate_limit_burst=(control.rate_limit_burst or max(1, rate)) if rate else None,
                ordered=control.ordered,
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
            signature=self.signature,
        )

    @property
    def controlled(self) -> bool:
        """Whether deliveries go through delivery control's admission for the options alone (FIFO, rate limit)."""
        return bool(self.control.ordered or self.control.rate_limit)


@dataclass(frozen=True)
class ResolvedContract:
    """A Contract with every default resolved (what ``Contract.effective()`` returns): the sections the settings
    complete are their ``Resolved...`` variants; body, batch and signature have no setting to take."""

    preset: str
    policy: ResolvedPolicy
    body: Body
    batch: Batch
    control: ResolvedControl
    request: Request  # proxy_url and user_agent filled in
    signature: Signature


_Resolved = TypeVar("_Resolved")


def _cached(value: Policy | Contract, resolve: Callable[[], _Resolved]) -> _Resolved:
    """``resolve()`` once per value and settings generation: a worker resolves each endpoint's contract once,
    not once per delivery (the parsed contract lives as long as the loaded endpoint row)."""
    generation = hookline_settings.generation
    cached: tuple[int, _Resolved] | None = value.__dict__.get("_effective")  # only ever set below
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
# A section's keys are its dataclass's fields: a new option is a field here and its entry in options.OPTIONS.
SECTIONS: dict[str, frozenset[str] | None] = {
    "preset": None,
    **{name: frozenset(item.name for item in fields(kind)) for name, kind in SECTION_TYPES.items()},
}
PARTS = tuple(SECTION_TYPES)


def parse(value: dict[str, Any] | None) -> Contract:
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


def _places(node: Any, placeholder: str) -> bool:
    """Does a template name this placeholder anywhere (as a whole string or inside one)?"""
    if isinstance(node, dict):
        return any(_places(value, placeholder) for value in node.values())
    if isinstance(node, list):
        return any(_places(value, placeholder) for value in node)
    return isinstance(node, str) and any(match.group(1) == placeholder for match in PLACEHOLDER.finditer(node))


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
    if contract.body.max_bytes:
        parts.append(f"bodies up to {contract.body.max_bytes} bytes")
    if contract.batch.enabled:
        parts.append(f"batches of up to {contract.batch.max_count} within {contract.batch.max_wait:g} s")
    control = contract.control
    if control.rate_limit:
        parts.append(f"at most {control.rate_limit}/s")
    if control.ordered:
        parts.append("FIFO")
    return "; ".join(parts)


@lru_cache(maxsize=1)
def default_user_agent() -> str:
    try:
        return f"Hookline/{version('hookline')}"
    except PackageNotFoundError:
        return "Hookline/dev"
