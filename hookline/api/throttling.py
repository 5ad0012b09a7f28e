"""Per-user rate limits for the API's writes and for emitting, with rates from HOOKLINE settings."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from hookline.conf import hookline_settings


class HooklineRateThrottle(SimpleRateThrottle):
    """A rate from ``HOOKLINE[setting]`` (read per request, so a changed setting applies at once); "" = no limit."""

    setting = ""

    def get_rate(self) -> str | None:
        return getattr(hookline_settings, self.setting) or None

    def get_cache_key(self, request: Request, view: APIView) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WriteRateThrottle(HooklineRateThrottle):
    """Limits POST, PUT, PATCH and DELETE; reads are not throttled."""

    scope = "hookline_write"
    setting = "API_WRITE_RATE"

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class EmitRateThrottle(HooklineRateThrottle):
    scope = "hookline_emit"
    setting = "API_EMIT_RATE"
