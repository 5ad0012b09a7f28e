"""One POST: an OutgoingRequest in, a TransportResult out; failures come back as data, never as exceptions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError, SSLError

from hookline.conf import hookline_settings
from hooks.urlguard import UnsafeURL

from . import errors
from .deadline import cut_at
from .guard import guarded_post

# Requests go straight to urllib3 through the guarded pools: requests.Session costs about three times
# urllib3's CPU per POST, and the sender is CPU-bound. Strict timeouts, no redirects, bounded reads.

_CHUNK = 16 * 1024


@dataclass
class OutgoingRequest:
    url: str
    headers: dict[str, str]
    body: bytes
    auth: tuple[str, str] | None = None
    proxy: str = ""
    timeouts: tuple[float, float] | None = None  # (connect, read) of the endpoint's policy; None: the settings


@dataclass
class TransportResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    truncated: bool = False
    duration_ms: int = 0
    error: str = ""  # for people: "connection refused by localhost:59999"
    detail: str = ""  # for developers: the raw exception, kept in the attempt's details

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(request: OutgoingRequest) -> TransportResult:
    """POST once; never follows redirects; reads at most MAX_RESPONSE_BYTES within TOTAL_TIMEOUT."""
    settings = hookline_settings
    started = time.monotonic()
    deadline = started + settings.TOTAL_TIMEOUT
    result = TransportResult()
    connect_timeout, read_timeout = request.timeouts or (settings.CONNECT_TIMEOUT, settings.READ_TIMEOUT)
    # The read timeout bounds each recv; the watchdog bounds the whole exchange (a dripping receiver).
    with cut_at(deadline) as watch:
        try:
            response = _send(request, urllib3.Timeout(connect=connect_timeout, read=read_timeout))
        except UnsafeURL as exc:
            result.error = f"Refused by the URL guard: {exc}"
        except NewConnectionError as exc:  # a subclass of ConnectTimeoutError, for historical reasons
            result.error, result.detail = _connection_failed(exc, request)
        except ConnectTimeoutError as exc:
            result.error = f"Connection to {errors.where(request.url)} timed out after {connect_timeout:g} s"
            result.detail = errors.raw(exc)
        except ReadTimeoutError as exc:
            result.error = f"No response within the read timeout ({read_timeout:g} s)"
            result.detail = errors.raw(exc)
        except SSLError as exc:  # e.g. certificate verify failed / hostname mismatch: never retried unverified
            result.error = f"TLS failed: {exc}"[:1000]
            result.detail = errors.raw(exc)
        except (HTTPError, OSError) as exc:
            result.error, result.detail = _connection_failed(exc, request)
        else:
            try:
                if not watch.expired:  # cut while the head arrived: what was parsed may be a fragment
                    result.status = response.status
                    result.headers = dict(response.headers)
                    body, result.truncated, result.error, result.detail = _read_bounded(
                        response, settings.MAX_RESPONSE_BYTES, deadline
                    )
                    result.body = body.decode(_charset(result.headers), errors="replace")
                if watch.expired or result.truncated or result.error:  # bytes left unread: not reusable
                    response.close()
            finally:
                response.release_conn()
    if watch.expired:
        result.error = f"The exchange was cut at the total timeout ({settings.TOTAL_TIMEOUT:g} s)"
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _connection_failed(exc: BaseException, request: OutgoingRequest) -> tuple[str, str]:
    """The readable text ("Connection failed: connection refused by localhost:59999") and the raw one."""
    proxy = request.proxy or hookline_settings.PROXY
    detail = errors.raw(exc)
    password = urlsplit(proxy).password if proxy else None
    if password:  # the operator's proxy may carry credentials; they stay out of the log
        detail = detail.replace(password, "***")
    return f"Connection failed: {errors.describe(exc, request.url, proxy)}"[:1000], detail


def _send(request: OutgoingRequest, timeout: urllib3.Timeout) -> urllib3.BaseHTTPResponse:
    headers = dict(request.headers)
    if request.auth:
        headers.update(urllib3.util.make_headers(basic_auth=f"{request.auth[0]}:{request.auth[1]}"))
    return guarded_post(
        request.url,
        proxy=request.proxy,
        body=request.body,
        headers=headers,
        timeout=timeout,
        redirect=False,
        retries=False,
        preload_content=False,
        decode_content=True,
    )


def _read_bounded(response: urllib3.BaseHTTPResponse, limit: int, deadline: float) -> tuple[bytes, bool, str, str]:
    """Read up to ``limit`` bytes before ``deadline``: (body, truncated, error, raw error).

    An unfinished body closes the connection.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                return b"".join(chunks), True, "The response body was still arriving at the total timeout", ""
            chunk = response.read(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks), False, "", ""
            if size + len(chunk) > limit:
                chunks.append(chunk[: limit - size])
                return b"".join(chunks), True, "", ""
            chunks.append(chunk)
            size += len(chunk)
    except Exception as exc:  # urllib3 raises several unrelated types for a broken body
        return b"".join(chunks), True, "The response body broke off before its end", errors.raw(exc)


def _charset(headers: dict[str, str]) -> str:
    """The charset named by Content-Type, else UTF-8 (JSON's encoding)."""
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "charset" and value.strip('"'):
            charset = value.strip('"')
            try:
                "".encode(charset)
            except LookupError:
                break
            return charset
    return "utf-8"
