"""The base of Hookline's domain errors: a default message, a code and an HTTP status (like DRF's)."""


class HooklineError(Exception):
    # The API answers with this status (hookline.api.errors maps every HooklineError in one place).
    status_code = 400
    default_detail = "Hookline error."
    default_code = "error"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        self.detail = detail or self.default_detail
        self.code = code or self.default_code
        super().__init__(self.detail)
