"""Errors that emit() raises at the call site (``events.UnknownEventType``, ``events.InvalidPayload``)."""

from hookline.exceptions import HooklineError


class UnknownEventType(HooklineError):
    default_detail = "Unknown event type."
    default_code = "unknown_event_type"


class InvalidPayload(HooklineError):
    default_detail = "Invalid payload."
    default_code = "invalid_payload"


class UnknownEndpoints(HooklineError):
    default_detail = "Unknown endpoints."
    default_code = "unknown_endpoints"
