"""Builds what a receiver gets: the JSON envelope, signature headers, and the masked copy for the log."""
from __future__ import annotations

import json
import time
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from django.core.serializers.json import DjangoJSONEncoder

from events.catalog import transformer_for
from hookline.conf import hookline_settings
from events.models import Event
from hooks import signing
from hooks.models import Webhook
from hooks.urlguard import MASK

from .exceptions import TransformFailed
from .transport import OutgoingRequest

_SENSITIVE_WORDS = ("authorization", "secret", "token", "api-key", "apikey", "password", "cookie")


@lru_cache(maxsize=1)
def user_agent() -> str:
    try:
        return f"Hookline/{version('hookline')}"
    except PackageNotFoundError:
        return "Hookline/dev"


def envelope(event: Event, key: str, data) -> bytes:
    """``{"type", "timestamp", "data"}``, serialised compactly."""
    return json.dumps(
        {"type": key, "timestamp": event.created_at.isoformat().replace("+00:00", "Z"), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    ).encode()


class BodyCache:
    """Serialises each (event, payload version) once per batch, not once per delivery."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], bytes | None | TransformFailed] = {}

    def body(self, event: Event, payload_version: str) -> bytes | None:
        """The body for this version, or None when the version's transformer skips the event.

        Raises TransformFailed when the site's transformer raises or returns something that is not
        ``(key, data)``: a bug in one transformer must fail its deliveries, not stall the batch.
        """
        cache_key = (event.id, payload_version)
        if cache_key not in self._bodies:
            self._bodies[cache_key] = self._shape(event, payload_version)
        body = self._bodies[cache_key]
        if isinstance(body, TransformFailed):
            raise body
        return body

    @staticmethod
    def _shape(event: Event, payload_version: str) -> bytes | None | TransformFailed:
        transform = transformer_for(event.type, payload_version)
        if transform is None:
            return envelope(event, event.type, event.payload)
        try:
            shaped = transform(event.type, event.payload)
            if shaped is None:
                return None
            key, data = shaped
            return envelope(event, str(key), data)
        except Exception as exc:  # the site's code: any error is reported on the delivery
            return TransformFailed(f"the {payload_version} transformer of {event.type} failed: {exc!r}"[:500])


def build_request(event: Event, webhook: Webhook, body: bytes, *, timestamp: int | None = None) -> OutgoingRequest:
    """The signed POST for one attempt; the timestamp is the signing time of this attempt."""
    timestamp = timestamp or int(time.time())
    secrets = webhook.signing_secrets()
    contract = webhook.delivery_contract
    headers = {
        "content-type": contract.body.content_type,
        "user-agent": user_agent(),
        **webhook.headers,
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
    }
    if webhook.standard_signature:
        headers["webhook-signature"] = signing.signature_header(secrets, event.id, timestamp, body)
    if webhook.github_signature:
        headers["X-Hub-Signature-256"] = signing.github_signature(secrets[0], body)
    if webhook.shared_secret_header:
        headers[webhook.shared_secret_header] = secrets[0]
    auth = (webhook.auth_username, webhook.auth_password) if webhook.auth_username else None
    policy = contract.policy
    return OutgoingRequest(
        url=webhook.url, headers=headers, body=body, auth=auth, proxy=webhook.proxy_url or hookline_settings.PROXY,
        timeouts=policy.timeouts() if policy.connect_timeout or policy.read_timeout else None,
    )


def logged_headers(request: OutgoingRequest, webhook: Webhook) -> dict[str, str]:
    """The request headers as stored in the log: secrets and credentials replaced by ***."""
    shared = webhook.shared_secret_header.lower()
    logged = {
        name: MASK if name.lower() == shared or any(word in name.lower() for word in _SENSITIVE_WORDS) else value
        for name, value in request.headers.items()
    }
    if request.auth:
        logged["authorization"] = f"Basic {MASK} ({request.auth[0]})"
    return logged
