"""The OpenAPI description of the API's errors: one Error schema, and the error answers every operation may give."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from drf_spectacular import utils as spectacular
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error answer: a message for people, a code for programs, and per-field messages for invalid input."""

    optional_in_response = ("fields",)

    detail = serializers.CharField(help_text="What went wrong, e.g. why a URL was refused.")
    code = serializers.CharField(
        help_text="Stable machine-readable code, e.g. unsafe_url, unknown_event_type, not_found."
    )
    fields = serializers.DictField(  # type: ignore[assignment]  # a field named "fields": DRF allows it, the stubs type the attribute
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For invalid input: the messages of each field (nested fields are dotted: headers.X-Token).",
    )


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class HooklineAutoSchema(AutoSchema):
    """drf-spectacular's schema, made exact for generated clients, plus the error answers each operation can give.

    - Every field of an answer is required (Hookline always sends it), except a serializer's
      ``optional_in_response`` names; ``nullable_in_response`` fields may be null in answers.
    - A field's ``writable_choices`` narrow its enum in requests (a component of its own).
    - A serializer's ``required_one_of`` becomes ``anyOf`` required alternatives.
    - Path ids (``{id}``) are integers.
    """

    def _map_basic_serializer(self, serializer: serializers.Serializer[Any], direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
        if direction == "response":
            optional = set(getattr(serializer, "optional_in_response", ()))
            required = sorted(name for name in schema.get("properties", {}) if name not in optional)
            if required:
                schema["required"] = required
        alternatives = getattr(serializer, "required_one_of", ())
        if direction == "request" and alternatives:
            schema["anyOf"] = [self._alternative(schema, name) for name in alternatives]
        return schema

    @staticmethod
    def _alternative(schema: dict[str, Any], name: str) -> dict[str, Any]:
        # Each branch complete (the always-required fields plus this one, non-empty), so that generated
        # clients get one usable model per alternative.
        required = [*schema.get("required", []), name]
        properties = {field: dict(schema["properties"][field]) for field in required}
        properties[name]["minLength"] = 1
        return {"type": "object", "properties": properties, "required": required}

    def _map_serializer_field(
        self, field: serializers.Field[Any, Any, Any, Any], direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        writable = getattr(field, "writable_choices", None)
        if direction == "request" and writable:
            name = field.writable_enum_name  # type: ignore[attr-defined]  # set with writable_choices
            component = ResolvedComponent(  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
                name=name,
                type=ResolvedComponent.SCHEMA,
                object=name,
                schema={"enum": list(writable), "type": "string"},
            )
            self.registry.register_on_missing(component)
            ref: dict[str, Any] = component.ref
            return {"allOf": [ref], "description": field.help_text or ""} if field.help_text else ref
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
        if direction == "response" and getattr(field, "nullable_in_response", False):
            schema = {**schema, "nullable": True}
        return schema

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        possible = {
            "401": "Not authenticated: send `Authorization: Token <key>` (or a session cookie).",
            "403": "Forbidden: e.g. a session request without its CSRF token, or a staff-only write.",
        }
        parameters = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        if "requestBody" in operation or parameters or "{" in path:  # path keys pass the input gate too
            possible["400"] = "Invalid input: `detail` says why, `fields` holds each field's messages."
        if "requestBody" in operation:
            possible["413"] = "The body is over HOOKLINE MAX_REQUEST_BYTES."
            possible["415"] = "The body must be JSON (Content-Type: application/json)."
        if "{" in path or self._is_list_view():
            possible["404"] = "Not found: no such object among your organisations' (or no such page)."
        if self.method not in SAFE_METHODS and getattr(self.view, "throttle_classes", None):
            possible["429"] = (
                "Rate limited (HOOKLINE API_WRITE_RATE / API_EMIT_RATE): retry after `Retry-After` seconds."
            )
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter["name"] == "id":
                parameter["schema"] = {"type": "integer"}  # lookup_value_regex lets any segment reach the view
        responses = operation.setdefault("responses", {})
        for status, description in possible.items():
            if status not in responses:
                responses[status] = self._get_response_for_code(error(description), status)  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
        operation["responses"] = dict(sorted(responses.items()))
        return operation


def extend_schema(**kwargs: Any) -> Callable[..., Any]:
    """drf-spectacular's ``extend_schema`` built on HooklineAutoSchema.

    On a view method, drf-spectacular builds on the host's ``DEFAULT_SCHEMA_CLASS`` (DRF's own
    AutoSchema under DRF defaults, which breaks schema generation); naming ours first keeps the
    schema the same in any site.
    """
    decorate = spectacular.extend_schema(**kwargs)

    def decorator(f: Any) -> Any:
        if callable(f) and not inspect.isclass(f) and not hasattr(f, "cls"):
            if not getattr(f, "kwargs", None):
                f.kwargs = {}
            f.kwargs.setdefault("schema", HooklineAutoSchema)
        return decorate(f)

    return decorator


extend_schema_view = spectacular.extend_schema_view
