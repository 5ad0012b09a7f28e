"""Errors that emit() raises at the call site; each has a default message and a code (like DRF's)."""


class HooklineError(Exception):
    default_detail = "Hookline error."
    default_code = "error"

    def __init__(self, detail: str | None = None, *, code: str | None = None):
        self.detail = detail or self.default_detail
        self.code = code or self.default_code
        super().__init__(self.detail)


class UnknownEventType(HooklineError):
    default_detail = "Unknown event type."
    default_code = "unknown_event_type"


class InvalidPayload(HooklineError):
    default_detail = "Invalid payload."
    default_code = "invalid_payload"
