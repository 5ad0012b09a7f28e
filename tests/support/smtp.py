"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, parsed."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage


class SMTPServer:
    """``with SMTPServer() as smtp: ... smtp.port ... smtp.messages``: started on a free port, stopped on exit."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._lock = threading.Lock()
        with socket.socket() as probe:  # a free port, so that parallel runs never collide
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def __enter__(self) -> SMTPServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def with_subject(self, text: str) -> list[EmailMessage]:
        with self._lock:
            return [message for message in self.messages if text in message["Subject"]]


def bodies(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative message."""
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())
