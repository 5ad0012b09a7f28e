"""The API's JSON renderer: any stored value renders, however deep or oddly encoded (an old row must not answer 500)."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer

from hookline import deepjson


class HooklineJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer; for what it cannot encode, an iterative encoder with \\uXXXX escapes (valid JSON, ASCII)."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            rendered: bytes = super().render(data, accepted_media_type, renderer_context)
            return rendered
        except (RecursionError, UnicodeEncodeError):
            # A lone surrogate (only an old row holds one) cannot be UTF-8; its escape can.
            return deepjson.dumps(data, ensure_ascii=True, cls=self.encoder_class).encode("ascii")
