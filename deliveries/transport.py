"""HTTP transport: one pooled session per thread, strict timeouts, no redirects, bounded reads.

Failures come back as data (TransportResult.error), never as exceptions through the caller.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import requests

from events.conf import hookline_settings
from hooks.urlguard import UnsafeURL

from .deadline import DeadlineAdapter, cut_at

_CHUNK = 16 * 1024


@dataclass
class OutgoingRequest:
    url: str
    headers: dict[str, str]
    body: bytes
    auth: tuple[str, str] | None = None
    proxy: str = ""


@dataclass
class TransportResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    truncated: bool = False
    duration_ms: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


_local = threading.local()


def session() -> requests.Session:
    """This thread's keep-alive session (requests.Session is not safe to share between threads)."""
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.trust_env = False  # proxies come from HOOKLINE settings only, never the environment
        adapter = DeadlineAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
        current.mount("http://", adapter)
        current.mount("https://", adapter)
        _local.session = current
    return current


def post(request: OutgoingRequest) -> TransportResult:
    """POST once; never follows redirects; reads at most MAX_RESPONSE_BYTES within TOTAL_TIMEOUT."""
    settings = hookline_settings
    started = time.monotonic()
    deadline = started + settings.TOTAL_TIMEOUT
    result = TransportResult()
    proxies = {"http": request.proxy, "https": request.proxy} if request.proxy else None
    with cut_at(deadline) as watch:  # the read timeout bounds each recv; this bounds the whole exchange
        try:
            response = session().post(
                request.url,
                data=request.body,
                headers=request.headers,
                auth=request.auth,
                proxies=proxies,
                timeout=(settings.CONNECT_TIMEOUT, settings.READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            )
        except UnsafeURL as exc:
            result.error = f"Refused by the URL guard: {exc}"
        except requests.exceptions.ConnectTimeout:
            result.error = f"Connection timed out after {settings.CONNECT_TIMEOUT:g} s"
        except requests.exceptions.ReadTimeout:
            result.error = f"No response within the read timeout ({settings.READ_TIMEOUT:g} s)"
        except requests.exceptions.RequestException as exc:
            result.error = _describe(exc)
        else:
            with response:
                if not watch.expired:  # cut while the head arrived: what was parsed may be a fragment
                    result.status = response.status_code
                    result.headers = dict(response.headers)
                    body, result.truncated, error = _read_bounded(response, settings.MAX_RESPONSE_BYTES, deadline)
                    result.body = body.decode(response.encoding or "utf-8", errors="replace")
                    result.error = error
    if watch.expired:
        result.error = f"The exchange was cut at the total timeout ({settings.TOTAL_TIMEOUT:g} s)"
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _read_bounded(response: requests.Response, limit: int, deadline: float) -> tuple[bytes, bool, str]:
    """Read up to ``limit`` bytes before ``deadline``; an unfinished body closes the connection."""
    chunks, size = [], 0
    try:
        while True:
            if time.monotonic() > deadline:
                return b"".join(chunks), True, "The response body was still arriving at the total timeout"
            chunk = response.raw.read(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks), False, ""
            if size + len(chunk) > limit:
                chunks.append(chunk[: limit - size])
                return b"".join(chunks), True, ""
            chunks.append(chunk)
            size += len(chunk)
    except Exception as exc:  # urllib3 raises several unrelated types for a broken body
        return b"".join(chunks), True, f"The response body could not be read: {exc}"


def _describe(exc: requests.exceptions.RequestException) -> str:
    cause = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        if isinstance(cause, UnsafeURL):
            return f"Refused by the URL guard: {cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, UnsafeURL):
        return f"Refused by the URL guard: {cause}"
    kind = "Connection failed" if isinstance(exc, requests.exceptions.ConnectionError) else "Request failed"
    return f"{kind}: {exc}"[:1000]
