"""Readable transport errors: one sentence naming the peer, never a library's class name."""

import errno
import socket
import ssl

import pytest
from urllib3.exceptions import NameResolutionError, NewConnectionError, ProtocolError, SSLError

from deliveries.transport import errors


class FakeConnection:
    host, port = "localhost", 59999

    def __repr__(self):
        return "_GuardedHTTPConnection(host='localhost', port=59999)"


@pytest.mark.parametrize(
    "exc, text",
    [
        (
            NewConnectionError(
                FakeConnection(), "Failed to establish a new connection: [Errno 111] Connection refused"
            ),
            "connection refused by localhost:59999",
        ),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "connection reset by localhost:59999"),
        (
            NameResolutionError("localhost", FakeConnection(), socket.gaierror(-2, "Name or service not known")),
            "could not resolve the host name localhost",
        ),
        (
            ProtocolError(
                "Connection aborted.", ConnectionAbortedError(errno.ECONNABORTED, "Software caused connection abort")
            ),
            "connection aborted by localhost:59999",
        ),
        (
            ProtocolError("Connection aborted.", Exception("RemoteDisconnected('Remote end closed connection')")),
            "localhost:59999 closed the connection without answering",
        ),
    ],
)
def test_connection_failures_read_as_sentences(exc, text):
    described = errors.describe(exc, "http://localhost:59999/in")
    assert described == text
    assert "_Guarded" not in described and "Error" not in described


def test_tls_failures_name_the_reason():
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    exc = SSLError(cause)
    exc.__cause__ = cause
    assert errors.describe(exc, "https://hooks.example/in").startswith("TLS handshake with hooks.example:443 failed: ")


def test_a_proxy_failure_names_the_proxy_without_its_credentials():
    exc = NewConnectionError(FakeConnection(), "Failed to establish a new connection: [Errno 111] Connection refused")
    text = errors.describe(exc, "http://hooks.example/in", "http://egress:pw@10.0.0.5:3128")
    assert text == "connection refused by the proxy 10.0.0.5:3128"


def test_the_raw_text_keeps_class_and_message():
    assert errors.raw(ValueError("boom")) == "builtins.ValueError: boom"
