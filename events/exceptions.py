"""Errors that emit() raises at the call site; each has a default message, a code and an HTTP status (like DRF's)."""


class HooklineError(Exception):
    # The API answers with this status (events.api.errors maps every HooklineError in one place).
    status_code = 400
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
