"""Builds what a receiver gets: the JSON envelope, signature headers, and the masked copy for the log."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from events import paths
from events.catalog import transformer_for
from events.models import Event
from hookline import limits
from hookline.conf import hookline_settings
from hooks import contracts, signing
from hooks.models import Webhook
from hooks.urlguard import MASK

from .exceptions import BodyTooLarge, TransformFailed
from .transport import OutgoingRequest

_SENSITIVE_WORDS = ("authorization", "secret", "token", "api-key", "apikey", "password", "cookie")
# {{id}} as a GUID is uuid5(this, event id): the same for every attempt, batch retry and redelivery of an event.
_EVENT_GUIDS = uuid.UUID("1f0c7a3e-5b8d-4e2a-9c61-7d4b2e8f0a95")


def envelope(event: Event, key: str, data: object) -> bytes:
    """``{"type", "timestamp", "data"}``, serialised compactly."""
    return dumps({"type": key, "timestamp": iso_time(event), "data": data})


def dumps(value: object) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def bounded(body: bytes, shape: contracts.Body = contracts.DEFAULT.body) -> bytes:
    """The body unchanged, or BodyTooLarge (a failed delivery, nothing sent) above MAX_REQUEST_BODY_BYTES.

    ``shape`` is the endpoint's body section: the limits a body is held to are its endpoint's."""
    try:
        limits.check_request_body_size(len(body))
    except limits.LimitExceeded as exc:
        raise BodyTooLarge(f"Not sent: the rendered request body {exc.reason}") from None
    if shape.max_bytes and len(body) > shape.max_bytes:
        raise BodyTooLarge(
            f"Not sent: the rendered request body is {len(body)} bytes; "
            f"this endpoint's limit (contract body.max_bytes) is {shape.max_bytes}."
        )
    return body


def logged_body(body: bytes) -> tuple[str, bool]:
    """A request body as the attempt log keeps it: at most MAX_RESPONSE_BYTES, like a response; and whether it was
    cut."""
    cap = hookline_settings.MAX_RESPONSE_BYTES
    if len(body) <= cap:
        return body.decode("utf-8", "replace"), False
    return body[:cap].decode("utf-8", "ignore"), True  # "ignore": a character cut in two is dropped, not garbled


def iso_time(event: Event) -> str:
    return event.created_at.isoformat().replace("+00:00", "Z")


def shaped(event: Event, key: str, data: object, body: contracts.Body, *, token: str = "") -> object:
    """What one event is for an endpoint's body shape: the envelope, the payload alone, or its template filled in.

    ``token`` is the endpoint's body token, for a template that places {{secret.token}}.
    """
    if body.shape == contracts.PAYLOAD:
        return data
    if body.shape == contracts.TEMPLATE:
        return fill(
            body.template,
            {
                "id": element_id(event.id, body.id_format),
                "type": key,
                "timestamp": iso_time(event),
                "data": data,
                "const": body.constants or {},
                "secret": {"token": token},
            },
        )
    return {"type": key, "timestamp": iso_time(event), "data": data}


def element_id(event_id: str, id_format: str) -> str:
    """{{id}} in the contract's id format: the event id, or a GUID derived from it (lower- or upper-case)."""
    if id_format == "event":
        return event_id
    guid = str(uuid.uuid5(_EVENT_GUIDS, event_id))
    return guid.upper() if id_format == "uuid-upper" else guid


def body_token(webhook: Webhook) -> str:
    """The token this endpoint's body carries, if its template places one (decrypted once per process: cached)."""
    return webhook.body_token if webhook.delivery_contract.body.places_token else ""


def fill(node: object, values: dict[str, Any]) -> object:
    """A declarative template filled in: placeholders are looked up, never evaluated (hooks.contracts checks them)."""
    if isinstance(node, dict):
        filled: dict[str, object] = {}
        for name, value in node.items():
            if name == contracts.SPREAD:
                spread = fill(value, values)
                if isinstance(spread, dict):
                    filled.update(spread)
            else:
                filled[name] = fill(value, values)
        return filled
    if isinstance(node, list):
        return [fill(value, values) for value in node]
    if isinstance(node, str):
        whole = contracts.PLACEHOLDER.fullmatch(node)
        if whole:  # the value itself, with its JSON type
            return _lookup(whole.group(1), values)
        return contracts.PLACEHOLDER.sub(lambda match: _text(_lookup(match.group(1), values)), node)
    return node


def _lookup(path: str, values: dict[str, Any]) -> object:
    """The value at a placeholder's path (events.paths: ``data.items.0`` is the first item); null when absent."""
    found = paths.resolve(values, tuple(path.split(".")))
    return None if found is paths.MISSING else found


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"))


class BodyCache:
    """Serialises each (event, payload version, body shape) once per batch, not once per delivery."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[Any, ...], bytes | BodyTooLarge | None] = {}
        self._items: dict[tuple[Any, ...], tuple[str, object] | TransformFailed | None] = {}

    def body(
        self, event: Event, payload_version: str, shape: contracts.Body = contracts.DEFAULT.body, *, token: str = ""
    ) -> bytes | None:
        """The body for this version, shape and body token, or None when the version's transformer skips the event.

        Raises TransformFailed when the site's transformer raises or returns something that is not
        ``(key, data)``: a bug in one transformer must fail its deliveries, not stall the batch.
        """
        # The default envelope is shared by every endpoint; another shape is its endpoint's own.
        # A body token is its endpoint's own: two endpoints never share a body that carries one.
        cache_key = (event.id, payload_version, "" if shape is contracts.DEFAULT.body else id(shape), token)
        if cache_key not in self._bodies:
            item = self.item(event, payload_version)
            try:
                self._bodies[cache_key] = (
                    None if item is None else bounded(dumps(shaped(event, *item, shape, token=token)), shape)
                )
            except BodyTooLarge as exc:
                self._bodies[cache_key] = exc
        body = self._bodies[cache_key]
        if isinstance(body, BodyTooLarge):
            raise body
        return body

    def item(self, event: Event, payload_version: str) -> tuple[str, object] | None:
        """(key, data) of this event in this payload version; None: skipped; raises TransformFailed."""
        cache_key = (event.id, payload_version)
        if cache_key not in self._items:
            self._items[cache_key] = self._transform(event, payload_version)
        item = self._items[cache_key]
        if isinstance(item, TransformFailed):
            raise item
        return item

    @staticmethod
    def _transform(event: Event, payload_version: str) -> tuple[str, object] | TransformFailed | None:
        transform = transformer_for(event.type, payload_version)
        if transform is None:
            return event.type, event.payload
        try:
            result = transform(event.type, event.payload)
            if result is None:
                return None
            key, data = result
            return str(key), data
        except Exception as exc:  # the site's code: any error is reported on the delivery
            return TransformFailed(f"the {payload_version} transformer of {event.type} failed: {exc!r}"[:500])


def test_body(event: Event, webhook: Webhook) -> bytes:
    """A test event in the endpoint's body shape (an array of one for a batch endpoint)."""
    contract = webhook.delivery_contract
    item = shaped(event, event.type, event.payload, contract.body, token=body_token(webhook))
    return bounded(dumps([item] if contract.batch.enabled else item), contract.body)


def batch_body(events: list[Event], bodies: BodyCache, shape: contracts.Body, *, token: str = "") -> bytes:
    """One batch's body: a JSON array of its events in the endpoint's shape; BodyTooLarge above the limits.

    A batch holds only events its payload version keeps (deliveries.delivering asks ``bodies.item`` before it
    batches one); one the version skips would have no element."""
    items = [(event, bodies.item(event, shape.payload_version)) for event in events]
    return bounded(
        dumps([shaped(event, *item, shape, token=token) for event, item in items if item is not None]),
        shape,
    )


SAMPLE_PAYLOAD = {"id": 42, "amount": "9.90", "customer": {"email": "ann@example.com"}, "items": [{"sku": "A-1"}]}


def sample_body(webhook: Webhook) -> object:
    """What a receiver of this endpoint gets for a sample event (the admin's preview): shape, template, batching."""
    event = Event(id="msg_sample", type="invoice.paid", payload=SAMPLE_PAYLOAD, created_at=timezone.now())
    contract = webhook.delivery_contract
    item = shaped(event, event.type, event.payload, contract.body)
    return [item] if contract.batch.enabled else item


def build_request(
    event: Event,
    webhook: Webhook,
    body: bytes,
    *,
    timestamp: int | None = None,
    msg_id: str = "",
) -> OutgoingRequest:
    """The signed POST for one attempt; the timestamp is the signing time of this attempt.

    ``msg_id`` replaces the event id as ``webhook-id`` (and in the signature): a batch's id.
    """
    timestamp = timestamp or int(time.time())
    msg_id = msg_id or event.id
    secrets = webhook.signing_secrets()
    contract = webhook.delivery_contract.effective()
    signature = contract.signature
    headers = {
        "content-type": contract.body.content_type,
        "user-agent": contract.request.user_agent,
        **contract.request.headers,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    signatures = []
    if signature.standard:
        signatures.append(signing.signature_header(secrets, msg_id, timestamp, body))
    if signature.asymmetric and webhook.signing_key_encrypted:
        signatures.append(signing.sign_asymmetric(webhook.signing_key, msg_id, timestamp, body))
    if signatures:
        headers["webhook-signature"] = " ".join(signatures)
    if signature.github:
        headers["X-Hub-Signature-256"] = signing.github_signature(secrets[0], body)
    if signature.shared_secret_header:
        headers[signature.shared_secret_header] = webhook.shared_secret_value
    auth = (webhook.auth_username, webhook.auth_password) if webhook.auth_username else None
    policy = contract.policy
    return OutgoingRequest(
        url=webhook.url,
        headers=headers,
        body=body,
        auth=auth,
        proxy=contract.request.proxy_url,
        timeouts=(policy.connect_timeout, policy.read_timeout)
        if webhook.delivery_contract.policy.own_timeouts
        else None,
    )


def masked_body(body: bytes, webhook: Webhook) -> bytes:
    """The request body for the log: a body token it carries replaced by *** (before the log's cap can cut one)."""
    if webhook.body_token_encrypted and webhook.delivery_contract.body.places_token:
        for token in webhook.body_tokens():  # a token is written into JSON as it is (hooks.signing checks it)
            body = body.replace(token.encode(), MASK.encode())
    return body


def logged_headers(request: OutgoingRequest, webhook: Webhook) -> dict[str, str]:
    """The request headers as stored in the log: secrets and credentials replaced by ***."""
    shared = webhook.delivery_contract.signature.shared_secret_header.lower()
    logged = {
        name: MASK if name.lower() == shared or any(word in name.lower() for word in _SENSITIVE_WORDS) else value
        for name, value in request.headers.items()
    }
    if request.auth:
        logged["authorization"] = f"Basic {MASK} ({request.auth[0]})"
    return logged
