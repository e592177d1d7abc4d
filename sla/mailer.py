"""Outgoing email over SMTP: settings from the environment and one send per outbox message.

Each message carries `Message-ID: <{event_id}@lapor-flow>`, the same on every retry, so a
receiver (or a mail archive) can drop duplicates of an at-least-once delivery.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from engine import clock
from sla.models import OutboxMessage

DEFAULT_SENDER = "LAPOR! <no-reply@lapor.go.id>"
MESSAGE_ID_DOMAIN = "lapor-flow"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over: a relay (production) or a local catcher (dev)."""

    host: str = "localhost"
    port: int = 1025
    sender: str = DEFAULT_SENDER
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read `LAPOR_SMTP_HOST`, `_PORT`, `_FROM`, `_STARTTLS`, `_USER`, `_PASSWORD`.

        A bad value raises `ValueError` naming the variable, so the process stops at start-up.
        """
        env = os.environ if environ is None else environ
        raw_port = env.get("LAPOR_SMTP_PORT", "1025")
        try:
            port = int(raw_port)
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise ValueError(f"LAPOR_SMTP_PORT must be a port number, got {raw_port!r}")
        raw_tls = env.get("LAPOR_SMTP_STARTTLS", "").strip().lower()
        if raw_tls not in _TRUE | _FALSE:
            raise ValueError(f"LAPOR_SMTP_STARTTLS must be true or false, got {raw_tls!r}")
        host = env.get("LAPOR_SMTP_HOST", "localhost").strip()
        if not host:
            raise ValueError("LAPOR_SMTP_HOST must not be empty")
        return cls(
            host=host,
            port=port,
            sender=env.get("LAPOR_SMTP_FROM", "").strip() or DEFAULT_SENDER,
            starttls=raw_tls in _TRUE,
            user=env.get("LAPOR_SMTP_USER") or None,
            password=env.get("LAPOR_SMTP_PASSWORD") or None,
        )


def message_id(event_id: str) -> str:
    """The stable Message-ID header value of the outbox message with `event_id`."""
    return f"<{event_id}@{MESSAGE_ID_DOMAIN}>"


def build_email(settings: SmtpSettings, message: OutboxMessage) -> EmailMessage:
    """The RFC 5322 message for an email outbox row (UTF-8 text body)."""
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Date"] = format_datetime(clock.now())
    mail["Message-ID"] = message_id(message.event_id)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body, charset="utf-8")
    return mail


def send_email(settings: SmtpSettings, message: OutboxMessage) -> None:
    """Hand one email outbox row to the SMTP server; raises on any failure."""
    mail = build_email(settings, message)
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(mail)
