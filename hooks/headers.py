"""Static request headers: which names are Hookline's own, and the check every stored set of headers passes."""
from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from hookline import limits

# Headers no static header may override: they carry the signatures and the framing.
RESERVED = frozenset({
    "webhook-id", "webhook-timestamp", "webhook-signature", "x-hub-signature-256", "content-type",
    "content-length", "transfer-encoding", "host", "connection", "proxy-authorization",
})
NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")  # an RFC 9110 token


def check(headers: Any, *, reserved: frozenset[str] = RESERVED, where: str = "Extra headers") -> dict[str, str]:
    """``headers`` as stored ({name: value} strings), or ValidationError(code="headers") saying what is wrong."""
    if not isinstance(headers, dict):
        raise ValidationError(f"{where} must be an object of name: value.", code="headers")
    clash = sorted(name for name in headers if name.lower() in reserved)
    if clash:
        raise ValidationError(f"These headers are set by Hookline and cannot be overridden: {', '.join(clash)}.", code="headers")
    invalid = sorted(str(name) for name in headers if not NAME.fullmatch(str(name)))
    if invalid:
        raise ValidationError(f"Not valid header names: {', '.join(map(repr, invalid))}.", code="headers")
    # A CR or LF in a value would let a stored header smuggle more headers into every request.
    broken = sorted(name for name, value in headers.items() if any(ord(ch) < 32 and ch != "\t" for ch in str(value)))
    if broken:
        raise ValidationError(f"Header values cannot contain line breaks or control characters: {', '.join(broken)}.",
                              code="headers")
    try:  # count, total size, valid Unicode
        limits.check_static_headers(headers)
    except limits.LimitExceeded as exc:
        raise ValidationError(str(exc), code=exc.code or "headers") from None
    return {str(name): str(value) for name, value in headers.items()}
