"""The API's own OpenAPI schema and offline docs views, independent of the host's DRF and drf-spectacular settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponseBase
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import SPECTACULAR_DEFAULTS, patched_settings
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import __version__
from .base import AUTHENTICATION_CLASSES

# The docs' templates are in the console app, so a site needs drf_spectacular_sidecar (static files)
# in INSTALLED_APPS but not drf_spectacular, whose deploy check would generate a schema for its own views too.

# drf-spectacular's defaults plus what the schema and the docs need, applied over the host's
# SPECTACULAR_SETTINGS while they are served (SERVE_* are the views' own attributes below).
SPECTACULAR_SETTINGS: dict[str, Any] = {
    **{
        name: value
        for name, value in SPECTACULAR_DEFAULTS.items()
        if not name.startswith("SERVE_") and name != "DEFAULT_GENERATOR_CLASS"
    },
    "TITLE": "Hookline API",
    "DESCRIPTION": "Webhook endpoints, deliveries and events.",
    "VERSION": __version__,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components: read-only fields are not offered as inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}
# The docs load their scripts and styles from this site's static files; nothing else may leave it
# (Redoc's sidebar would otherwise fetch the Redocly logo from a CDN).
OFFLINE_POLICY = "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'"


if TYPE_CHECKING:  # mixed into drf-spectacular's views (a base at type-check time only)
    _View = APIView
else:
    _View = object


class _Served(_View):
    """Open to everyone (the schema is the same for all), with Hookline's settings, not the host's."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    content_negotiation_class = DefaultContentNegotiation
    versioning_class = None
    schema = None  # not an operation of the API it describes

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with patched_settings(SPECTACULAR_SETTINGS):
            return super().dispatch(request, *args, **kwargs)

    def _get_schema_url(self, request: Request) -> str:
        # The sibling schema/ of this page, wherever the host mounted the API (no URL name to reverse).
        return request.path.rstrip("/").rsplit("/", 1)[0] + "/schema/"


class HooklineSchemaView(_Served, SpectacularAPIView):
    """``schema/`` next to the API: only Hookline's routes, under the prefix the host mounted them at."""

    routes: list[Any] = []
    generator_class = SchemaGenerator
    serve_public = True
    urlconf = None
    api_version = None

    def _get_schema_response(self, request: Request) -> Response:
        prefix = request.path_info.lstrip("/")[: -len("schema/")]
        self.patterns = [path(prefix, include(self.routes))]
        response: Response = super()._get_schema_response(request)  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
        return response


class HooklineSwaggerView(_Served, SpectacularSwaggerView):
    """``docs/``: Swagger UI from drf-spectacular-sidecar's static files."""

    template_name = "hookline/swagger_ui.html"

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = OFFLINE_POLICY
        return response


class HooklineRedocView(_Served, SpectacularRedocView):
    """``redoc/``: Redoc from static files, without the web fonts drf-spectacular's page links."""

    template_name = "hookline/redoc.html"

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = OFFLINE_POLICY
        return response
