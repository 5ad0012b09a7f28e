"""What the delivery inspector shows for each attempt: headers as rows, bodies pretty-printed and capped."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from deliveries.models import Attempt
from hookline.display import displayable, pretty_json

# Bodies longer than this are cut on the page (the log itself keeps what MAX_RESPONSE_BYTES allowed).
DISPLAY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class ShownBody:
    text: str
    hidden_chars: int = 0


@dataclass(frozen=True)
class AttemptView:
    """One attempt, ready for the template."""

    attempt: Attempt
    request_headers: list[tuple[str, str]]
    request_body: ShownBody
    response_headers: list[tuple[str, str]]
    response_body: ShownBody
    response_reason: str

    @property
    def outcome(self) -> str:
        if self.attempt.succeeded:
            return "succeeded"
        return "error" if self.attempt.response_status is None else "failed"


def attempt_views(attempts) -> list[AttemptView]:
    """Newest first, as a receiver's operator reads them."""
    return [show_attempt(attempt) for attempt in sorted(attempts, key=lambda a: a.number, reverse=True)]


def show_attempt(attempt: Attempt) -> AttemptView:
    return AttemptView(
        attempt=attempt,
        request_headers=show_headers(attempt.request_headers),
        request_body=show_body(attempt.request_body),
        response_headers=show_headers(attempt.response_headers),
        response_body=show_body(attempt.response_body),
        response_reason=reason_phrase(attempt.response_status),
    )


def show_headers(headers) -> list[tuple[str, str]]:
    """Name and value rows, sorted by name; whatever the JSON column holds (it is not ours to trust) shows as text."""
    if not isinstance(headers, dict):
        return [("", pretty_json(headers))] if headers else []
    rows = [
        (displayable(str(name)), value if isinstance(value, str) else pretty_json(value))
        for name, value in headers.items()
    ]
    return sorted(((name, displayable(value)) for name, value in rows), key=lambda row: row[0].lower())


def show_body(body: str) -> ShownBody:
    text = pretty_json(body) if body else ""
    if len(text) <= DISPLAY_LIMIT:
        return ShownBody(text)
    return ShownBody(text[:DISPLAY_LIMIT], len(text) - DISPLAY_LIMIT)


def reason_phrase(status: int | None) -> str:
    if status is None:
        return ""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
