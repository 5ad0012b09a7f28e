"""The API's one exception handler: domain and framework errors become ``{"detail", "code"[, "fields"]}`` JSON."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from hookline.exceptions import HooklineError

from .parsers import RequestTooLarge

NON_FIELD_KEYS = ("non_field_errors", "__all__")


def _non_field_keys() -> tuple[str, ...]:
    # The host may rename DRF's key (NON_FIELD_ERRORS_KEY); Hookline's answers stay the same.
    return (*NON_FIELD_KEYS, api_settings.NON_FIELD_ERRORS_KEY)


class DomainError(exceptions.APIException):
    """A HooklineError (unknown event type, pending deliveries, …) as DRF sees it: its status, message and code."""

    def __init__(self, error: HooklineError) -> None:
        self.status_code = error.status_code
        super().__init__(error.detail, error.code)


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, after turning domain exceptions into API exceptions; then one error shape for all."""
    if isinstance(exc, HooklineError):
        exc = DomainError(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = from_django(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):  # Django's own cap, met before our parser reads the body
        exc = RequestTooLarge(
            f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
            "(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)."
        )
    response = drf_exception_handler(exc, context)
    if response is not None:
        # drf_exception_handler answers only an APIException (Http404 and PermissionDenied became ones above)
        response.data = error_body(cast(exceptions.APIException, exc))
    return response


class RefusedValue(exceptions.APIException):
    """A service's refusal of field values: its own message and code, and the fields at fault.

    Not a ValidationError, so that a serializer's validate() lets it through unchanged (DRF would
    re-key a ValidationError under non_field_errors and drop the fields).
    """

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, code: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message, code=code)
        self.fields = fields


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, RefusedValue):
        refusal: dict[str, Any] = {"detail": str(exc.detail), "code": getattr(exc.detail, "code", None) or "invalid"}
        return {**refusal, "fields": exc.fields} if exc.fields else refusal
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = _non_field_keys()
        first_field, messages = next(iter(fields.items()), ("", ["Invalid input."]))
        detail = messages[0] if first_field in non_field or not first_field else f"{first_field}: {messages[0]}"
        body: dict[str, Any] = {"detail": detail, "code": _first_code(exc.get_codes()) or "invalid"}
        if any(name not in non_field for name in fields):
            body["fields"] = {name: messages for name, messages in fields.items() if name not in non_field}
        return body
    return {"detail": str(exc.detail), "code": getattr(exc.detail, "code", None) or exc.default_code}


def from_django(exc: DjangoValidationError) -> RefusedValue:
    """A service's ValidationError as the API answers it: its message and code, e.g. ``unsafe_url``, and
    ``fields`` when the service keyed it by field (as hooks.services does, for the admin form).

    ``{"detail": "Refused: …", "code": "unsafe_url", "fields": {"url": ["Refused: …"]}}``: the message
    itself, not prefixed with the field's name.
    """
    fields: dict[str, list[str]] = {}
    if hasattr(exc, "error_dict"):
        errors = [error for field_errors in exc.error_dict.values() for error in field_errors]
        fields = {
            name: [m for error in field_errors for m in error.messages]
            for name, field_errors in exc.error_dict.items()
            if name not in _non_field_keys()
        }
    else:
        errors = exc.error_list
    messages = [message for error in errors for message in error.messages]
    return RefusedValue(" ".join(messages), getattr(errors[0], "code", None) or "invalid", fields)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"headers": {"X": ["…"]}} → {"headers.X": ["…"]}; a bare list or string is a non-field error."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(_flatten(value, name))
            elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
                for index, item in enumerate(value):
                    flat.update(_flatten(item, f"{name}.{index}"))
            else:
                flat[name] = [str(message) for message in (value if isinstance(value, list) else [value])]
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def _first_code(codes: Any) -> str | None:
    if isinstance(codes, dict):
        codes = list(codes.values())
    if isinstance(codes, list):
        return next((code for code in map(_first_code, codes) if code), None)
    return cast(str | None, codes)
