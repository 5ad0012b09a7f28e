"""Validation of a contract: ``validate_contract`` returns its stored form or a ContractError naming the option."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError

from hookline import limits
from hookline.conf import hookline_settings

from ..urlguard import UnsafeURL, check_proxy_url
from .options import OPTIONS
from .presets import expand
from .value import (
    BODY_TOKEN,
    ENVELOPE,
    EXHAUSTION_CHOICES,
    ID_FORMATS,
    PARTS,
    PLACEHOLDER,
    RETRY_CHOICES,
    SECTIONS,
    SHAPES,
    SPREAD,
    TEMPLATE,
)

MAX_DELAYS = 50
MAX_BATCH = 1000
MAX_BATCH_WAIT = 3600.0
MAX_TEMPLATE_CHARS = 8 * 1024
MAX_IN_FLIGHT = 1000
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


class ContractError(ValidationError):
    """A refused contract value; ``option`` names the option it is about ("section.key"), for the form field."""

    def __init__(self, message: str, *, option: str = "", code: str = "contract"):
        super().__init__(message, code=code)
        found = _OPTION_IN_MESSAGE.search(message)
        self.option = option or (found.group(0) if found else "")


def validate_contract(value: Any) -> dict[str, Any]:
    """The stored form of a contract: the preset expanded, every value checked; raises ValidationError with a clear
    message."""
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
    _check_declared(value)
    _check_policy(value.get("policy") or {})
    _check_body(value.get("body") or {})
    _check_batch(value.get("batch") or {})
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


def _check_policy(policy: dict[str, Any]) -> None:
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
    for name, bound in (("connect_timeout", settings.CONNECT_TIMEOUT), ("read_timeout", settings.READ_TIMEOUT)):
        if name in policy:
            _number(f"policy.{name} (at most HOOKLINE {name.upper()})", policy[name], low=0.1, high=bound)
    if "max_in_flight" in policy:
        _number("policy.max_in_flight", policy["max_in_flight"], low=1, high=MAX_IN_FLIGHT, integer=True)


def _check_body(body: dict[str, Any]) -> None:
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


def template_bound(template: Any, constants: dict[str, Any]) -> int:
    """The most bytes a template can render to: its own text, plus its placeholders at their largest.

    The payload is at most MAX_PAYLOAD_BYTES as serialised, and values at different paths are disjoint
    parts of it: ``{{data.a}}`` and ``{{data.b}}`` together take at most the payload, while ``{{data}}``
    and ``{{data.a}}`` (one inside the other) may take it twice. So the payload's share is its size times
    the heaviest chain of nested paths, each placeholder counted once per use (twice inside a longer
    string, where its text is escaped again). This refuses the 8 KB template repeating ``{{data}}``
    1,000 times (a 256 MB body per event) and accepts a template that picks many fields once.
    """
    fixed = {"id": 64, "type": 2 * limits.KEY_MAX_LENGTH, "timestamp": 64}
    total, stack = len(json.dumps(template, separators=(",", ":"))), [template]
    uses: dict[tuple[str, ...], int] = {}  # how often each data path is placed, weighted
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
    payload_max: int = hookline_settings.MAX_PAYLOAD_BYTES
    return total + heaviest_chain * payload_max


def check_template_size(body: dict[str, Any]) -> None:
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


def _check_template(node: Any, constants: dict[str, Any], where: str) -> None:
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


def _check_batch(batch: dict[str, Any]) -> None:
    if "max_count" in batch:
        _number("batch.max_count", batch["max_count"], low=1, high=MAX_BATCH, integer=True)
    if "max_wait" in batch:
        _number("batch.max_wait (seconds)", batch["max_wait"], low=0, high=MAX_BATCH_WAIT)


def _check_declared(value: dict[str, Any]) -> None:
    """The options whose kind and bounds say it all (flags, numbers with ``high``), checked from OPTIONS alone."""
    for option in OPTIONS:
        section = value.get(option.section) or {}
        if option.key not in section:
            continue
        given = section[option.key]
        if option.kind == "bool" and not isinstance(given, bool):
            raise ContractError(f"{option.path} must be true or false.")
        if option.high is not None and given is not None:
            high = getattr(hookline_settings, option.high) if isinstance(option.high, str) else option.high
            where = f"{option.path} (at most HOOKLINE {option.high})" if isinstance(option.high, str) else option.path
            _number(where, given, low=option.low, high=high, integer=option.kind == "int")


def _check_signature(signature: dict[str, Any]) -> None:
    if "shared_secret_header" in signature:
        signature["shared_secret_header"] = validate_shared_secret_header(signature["shared_secret_header"])


def _check_request(request: dict[str, Any], shared_secret_header: str) -> None:
    if "headers" in request:
        request["headers"] = validate_headers(request["headers"], shared_secret_header)
    if "proxy_url" in request:
        request["proxy_url"] = validate_proxy_url(request["proxy_url"])
    if "user_agent" in request:
        agent = request["user_agent"]
        if not isinstance(agent, str) or len(agent) > USER_AGENT_MAX or not agent.isprintable():
            raise ContractError(f"request.user_agent must be printable text of at most {USER_AGENT_MAX} characters.")
        request["user_agent"] = agent.strip()


def validate_shared_secret_header(name: object) -> str:
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


def validate_proxy_url(url: object) -> str:
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
