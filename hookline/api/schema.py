"""The OpenAPI description of the API's errors: one Error schema, and the error answers every operation may give."""
from __future__ import annotations

import inspect
from typing import Any, Callable

from drf_spectacular import utils as spectacular
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS


class ErrorSerializer(serializers.Serializer):
    """Every error answer: a message for people, a code for programs, and per-field messages for invalid input."""

    detail = serializers.CharField(help_text="What went wrong, e.g. why a URL was refused.")
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. unsafe_url, unknown_event_type, not_found.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="For invalid input: the messages of each field (nested fields are dotted: headers.X-Token).",
    )


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class HooklineAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers (400, 401, 403, 404, 429) each operation can give."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        possible = {
            "401": "Not authenticated: send `Authorization: Token <key>` (or a session cookie).",
            "403": "Forbidden: e.g. a session request without its CSRF token, or a staff-only write.",
        }
        parameters = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        if "requestBody" in operation or parameters:
            possible["400"] = "Invalid input: `detail` says why, `fields` holds each field's messages."
        if "requestBody" in operation:
            possible["415"] = "The body must be JSON (Content-Type: application/json)."
        if "{" in path or self._is_list_view():
            possible["404"] = "Not found: no such object among your organisations' (or no such page)."
        if self.method not in SAFE_METHODS and getattr(self.view, "throttle_classes", None):
            possible["429"] = "Rate limited (HOOKLINE API_WRITE_RATE / API_EMIT_RATE): retry after `Retry-After` seconds."
        responses = operation.setdefault("responses", {})
        for status, description in possible.items():
            if status not in responses:
                responses[status] = self._get_response_for_code(error(description), status)
        operation["responses"] = dict(sorted(responses.items()))
        return operation


def extend_schema(**kwargs: Any) -> Callable:
    """drf-spectacular's ``extend_schema`` built on HooklineAutoSchema.

    On a view method, drf-spectacular builds on the host's ``DEFAULT_SCHEMA_CLASS`` (DRF's own
    AutoSchema under DRF defaults, which breaks schema generation); naming ours first keeps the
    schema the same in any site.
    """
    decorate = spectacular.extend_schema(**kwargs)

    def decorator(f):
        if callable(f) and not inspect.isclass(f) and not hasattr(f, "cls"):
            if not getattr(f, "kwargs", None):
                f.kwargs = {}
            f.kwargs.setdefault("schema", HooklineAutoSchema)
        return decorate(f)

    return decorator


extend_schema_view = spectacular.extend_schema_view
