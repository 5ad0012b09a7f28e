"""Endpoint state operations (clean, create, update, rotate, enable, disable): callers use
deliveries.endpoint_actions."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from events.models import Organisation
from hookline import contacts, limits
from hookline.conf import hookline_settings

from . import conditions, contracts, crypto, patterns, signing, states
from .models import Webhook
from .signals import endpoint_needs_test
from .urlguard import split_credentials, validate_url


def validate_event_types(values: list[str]) -> list[str]:
    if not isinstance(values, list) or not values:
        raise ValidationError("Subscribe to at least one event-type pattern ('*' for all).", code="event_types")
    try:
        return [patterns.validate_pattern(str(value)) for value in values]
    except ValueError as exc:
        raise ValidationError(str(exc), code="event_types") from exc


def validate_condition(condition: Any) -> dict[str, Any] | None:
    """A payload condition (hooks.conditions); a refusal names the place in it and the reason."""
    try:
        return conditions.validate(condition)
    except conditions.ConditionError as exc:
        raise ValidationError(str(exc), code="condition") from None


def validate_text(value: str, max_length: int, where: str) -> str:
    """A name or a description: valid Unicode (no NUL, no lone surrogate) within its length limit."""
    _within_limits(limits.check_text, value or "", where=where, max_length=max_length, code="too_long")
    return value


def _within_limits(check: Callable[..., object], *args: Any, code: str, **kwargs: Any) -> None:
    """A hookline.limits check whose refusal is a ValidationError with the limit's code."""
    try:
        check(*args, **kwargs)
    except limits.LimitExceeded as exc:
        raise ValidationError(str(exc), code=exc.code or code) from None


# The editable fields: the endpoint's own, its contract, and the contract's options by their flat
# (pre-Architecture II) names, which the API and the admin form still take (hooks.contracts.FLAT_OPTIONS).
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "url",
        "event_types",
        "organisation",
        "condition",
        "contract",
        "shared_secret",
        "contact_emails",  # operational alerts (deliveries/alerts)
        *contracts.FLAT_OPTIONS,
    }
)
OWNER_STATES = tuple(states.SET_BY_OWNER)
STATE_FIELDS = frozenset({"state", "state_reason", "state_changed_at"})
TEXT_LIMITS = {
    "name": limits.NAME_MAX_LENGTH,
    "description": limits.DESCRIPTION_MAX_LENGTH,
    "url": Webhook._meta.get_field("url").max_length,
}


def clean_webhook_fields(fields: dict[str, Any], *, webhook: Webhook | None = None) -> dict[str, Any]:
    """The pure "clean" step of create_webhook (``webhook=None``) and update_webhook: checked, normalised values.

    Saves nothing and changes nothing, so a form or a serializer can call it before saving. A refused
    value raises ``ValidationError({field: [error]})`` (the first one found; ``__all__`` when no field
    is to blame), so the admin shows it on its field and the API answers its message and code.

    Delivery options come as ``contract`` (the whole value: it replaces the stored one) and/or by their
    flat names (``headers``, ``rate_limit``, …), set into the contract; the result carries the one
    validated ``contract`` and none of the flat names.
    """
    cleaned = dict(fields)
    if webhook is not None:
        _clean_owner_changes(cleaned)
    else:
        cleaned["event_types"] = cleaned.get("event_types") or ["*"]
    for field, max_length in TEXT_LIMITS.items():
        if field in cleaned:
            _on_field(field, validate_text, cleaned[field], max_length, field)
    if "url" in cleaned:
        _on_field("url", validate_url, split_credentials(cleaned["url"])[0])  # the URL is stored without credentials
    if "event_types" in cleaned:
        cleaned["event_types"] = _on_field("event_types", validate_event_types, cleaned["event_types"])
    if "condition" in cleaned:
        cleaned["condition"] = _on_field("condition", validate_condition, cleaned["condition"])
    flat = {name: cleaned.pop(name) for name in list(cleaned) if name in contracts.FLAT_OPTIONS}
    if "contract" in cleaned or flat or webhook is None:
        given = cleaned.get("contract", webhook.contract if webhook is not None else {})
        if given in (None, ""):
            given = {}
        if flat and not isinstance(given, dict):
            raise ValidationError(
                {"contract": ValidationError("The delivery contract must be a JSON object.", code="contract")}
            )
        cleaned["contract"] = clean_contract(contracts.with_flat(given, flat) if flat else given, flat_names=set(flat))
    if "shared_secret" in cleaned:
        cleaned["shared_secret"] = _on_field("shared_secret", validate_shared_secret, cleaned["shared_secret"] or "")
    if "contact_emails" in cleaned:  # operational alerts: stored as "a@x, b@y"
        _on_field("contact_emails", contacts.validate, cleaned["contact_emails"] or "")
        cleaned["contact_emails"] = contacts.joined(contacts.split(cleaned["contact_emails"] or ""))
    return cleaned


def clean_contract(value: Any, *, flat_names: Set[str] = frozenset()) -> dict[str, Any]:
    """contracts.validate_contract, its refusal keyed by the flat field it is about (if that was given) or
    ``contract``."""
    try:
        return contracts.validate_contract(value)
    except contracts.ContractError as exc:
        option = contracts.OPTION_BY_PATH.get(exc.option)
        field = option.flat if option is not None and option.flat in flat_names else "contract"
        raise ValidationError({field: exc}) from exc
    except ValidationError as exc:
        raise ValidationError({"contract": exc}) from exc


def _clean_owner_changes(changes: dict[str, Any]) -> None:
    """An edit: only editable fields, and ``enabled`` or ``state`` only as the owner may set them."""
    unknown = set(changes) - EDITABLE_FIELDS - {"state", "enabled"}
    if unknown:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: ValidationError(
                    f"These fields cannot be edited: {', '.join(sorted(unknown))}.",
                    code="not_editable",
                )
            }
        )
    if "enabled" in changes:
        changes.setdefault("state", Webhook.State.NEW if changes.pop("enabled") else Webhook.State.DEACTIVATED)
    state = changes.get("state")
    if state is not None and state not in OWNER_STATES:
        raise ValidationError(
            {
                "state": ValidationError(
                    "state can only be set to 'new' or 'deactivated' (use the test action to prove an endpoint); "
                    f"got {state!r}.",
                    code="state",
                )
            }
        )


def _on_field(field: str, validate: Callable[..., Any], *args: Any) -> Any:
    """Run one validator; its error is raised again keyed by the field it is about."""
    try:
        return validate(*args)
    except ValidationError as exc:
        raise ValidationError({field: exc}) from exc


def validate_secret(secret: str) -> str:
    try:
        return signing.check_imported_secret(secret)
    except ValueError as exc:
        raise ValidationError(str(exc), code="secret") from None


def validate_body_token(token: str) -> str:
    try:
        return signing.check_imported_body_token(token)
    except ValueError as exc:
        raise ValidationError(str(exc), code="body_token") from None


def validate_shared_secret(value: str) -> str:
    """A shared-secret header value the customer chose: a header value, printable, 8 to 512 characters."""
    if value and (not 8 <= len(value) <= 512 or not value.isprintable() or value != value.strip()):
        raise ValidationError(
            "A shared secret must be 8 to 512 printable characters, without surrounding spaces.", code="shared_secret"
        )
    return value


def create_webhook(
    *,
    url: str,
    name: str = "",
    organisation: Organisation | None = None,
    event_types: list[str] | None = None,
    user: User | None = None,
    secret: str = "",
    body_token: str = "",
    **options: Any,
) -> tuple[Webhook, str]:
    """Create an endpoint (clean_webhook_fields, then save); returns it with its secret (the only time it is returned).

    ``secret`` imports an existing signing secret (``whsec_…`` or raw) instead of generating one. An endpoint
    whose body template places ``{{secret.token}}`` gets a body token (``webhook.body_token``), generated or
    imported from ``body_token``.
    """
    if secret:
        secret = _on_field("secret", validate_secret, secret)
    if body_token:
        body_token = _on_field("body_token", validate_body_token, body_token)
    fields = clean_webhook_fields({"url": url, "name": name, "event_types": event_types, **options})
    url, name = fields.pop("url"), fields.pop("name")
    shared_secret = fields.pop("shared_secret", "")
    webhook = Webhook(organisation=organisation, name=name, created_by=user, updated_by=user, **fields)
    webhook.set_url(url)
    webhook.name = name or webhook.url
    secret = secret or signing.generate_secret()
    webhook.secret = secret
    webhook.shared_secret_value_encrypted = crypto.encrypt(shared_secret) if shared_secret else ""
    webhook.body_token_encrypted = crypto.encrypt(body_token) if body_token else ""
    webhook.ensure_keypair()
    webhook.ensure_body_token()
    webhook.save()
    _test_after_commit(webhook)
    return webhook, secret


def update_webhook(webhook: Webhook, *, user: User | None = None, **changes: Any) -> Webhook:
    """Edit an endpoint (clean_webhook_fields, then save). A new URL puts it back to ``new``; its owner may set state
    only to new or deactivated."""
    changes = clean_webhook_fields(changes, webhook=webhook)
    state = changes.pop("state", None)
    if "shared_secret" in changes:  # "" goes back to sending the signing secret
        shared_secret = changes.pop("shared_secret")
        webhook.shared_secret_value_encrypted = crypto.encrypt(shared_secret) if shared_secret else ""
    url_before, state_before = webhook.url, _state_of(webhook)
    if "url" in changes:
        webhook.set_url(changes.pop("url"))
    for name, value in changes.items():
        setattr(webhook, name, value)
    if state is not None:
        states.transition(webhook, states.SET_BY_OWNER[state], commit=False)
    webhook.ensure_keypair()
    webhook.ensure_body_token()  # a new template that places the token: the token exists before the first send
    webhook.updated_by = user or webhook.updated_by
    # What the workers keep (breaker, bucket, pause) is not in this row (deliveries.EndpointRuntime); the
    # state, which a worker may change meanwhile (hooks.states), is written only when this edit changes it.
    webhook.save(
        update_fields=[
            field.name
            for field in Webhook._meta.concrete_fields
            if not field.primary_key and (field.name not in STATE_FIELDS or _state_of(webhook) != state_before)
        ]
    )
    if webhook.url != url_before:
        _test_after_commit(webhook)
    return webhook


def _state_of(webhook: Webhook) -> tuple[Any, ...]:
    return tuple(getattr(webhook, name) for name in sorted(STATE_FIELDS))


def tenant_endpoint_ids(ids: list[int], organisation_id: int | None) -> list[int]:
    """Which of these ids are endpoints of this tenant (any state: the state is applied at fan-out)."""
    query = Webhook.objects.filter(id__in=ids)
    query = (
        query.filter(organisation_id=organisation_id)
        if organisation_id is not None
        else query.filter(organisation__isnull=True)
    )
    return list(query.values_list("id", flat=True))


def _test_after_commit(webhook: Webhook) -> None:
    """Ask for a test of a new or moved endpoint once the change is committed (if the endpoint wants one)."""
    if webhook.delivery_contract.policy.test_on_save:
        webhook_id = webhook.pk
        transaction.on_commit(lambda: endpoint_needs_test.send(Webhook, webhook_id=webhook_id))


def rotate_secret(webhook: Webhook, *, user: User | None = None, secret: str = "") -> str:
    """Issue a new secret (or import ``secret``); the old one keeps signing alongside it for SECRET_ROTATION_GRACE
    seconds."""
    secret = _on_field("secret", validate_secret, secret) if secret else signing.generate_secret()
    webhook.begin_rotation(secret, hookline_settings.SECRET_ROTATION_GRACE)
    _save_rotation(webhook, "secret", user)
    return secret


def rotate_body_token(webhook: Webhook, *, user: User | None = None, token: str = "") -> str:
    """Issue a new body token (or import ``token``) and return it, the only time it is shown; the previous one
    still validates (POST /api/tokens/validate/) for SECRET_ROTATION_GRACE seconds. Bodies carry the new one at once."""
    token = _on_field("body_token", validate_body_token, token) if token else signing.generate_body_token()
    webhook.begin_body_token_rotation(token, hookline_settings.SECRET_ROTATION_GRACE)
    _save_rotation(webhook, "body_token", user)
    return token


def _save_rotation(webhook: Webhook, credential: str, user: User | None) -> None:
    """Write one rotated credential (``secret`` or ``body_token``): the new value, the previous one and its expiry."""
    webhook.updated_by = user or webhook.updated_by
    webhook.save(
        update_fields=[
            f"{credential}_encrypted",
            f"previous_{credential}_encrypted",
            f"previous_{credential}_expires_at",
            "updated_by",
            "updated_at",
        ]
    )


def enable(webhook: Webhook, *, user: User | None = None) -> None:
    """Turn an endpoint back on; it is ``new`` until a delivery or a test proves it."""
    states.transition(webhook, states.ENABLED, user=user)


def disable(webhook: Webhook, *, user: User | None = None) -> None:
    states.transition(webhook, states.DISABLED, user=user)
