"""The delivery outbox: emails and webhooks written in the transaction that caused them.

`enqueue_email` / `enqueue_webhook` only add a row to the caller's transaction, so a rolled-back
change sends nothing and a committed one is never lost. `deliver_due` (a scheduler job) claims
due rows in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
`BEGIN IMMEDIATE` serialises claimers), leases them by moving `next_attempt_at` ahead, delivers
each outside any transaction and records the outcome per row. Failures retry with exponential
backoff (30 s doubling, at most 1 h) until 24 h after the row was created, then the row is
`dead` with its last error until an operator `resend`s it. Delivery is at least once; the
stable `event_id` (email Message-ID, webhook `X-Lapor-Event-Id`) lets receivers drop duplicates.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.services import audit
from sla import mailer, webhooks
from sla.models import OutboxMessage, WebhookEndpoint

log = logging.getLogger(__name__)

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATUSES = (PENDING, SENT, DEAD)
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=24)
LEASE = timedelta(minutes=5)  # a crashed worker's claimed rows are due again after this
LEASE_MARGIN = timedelta(seconds=30)  # stop starting sends this close to the lease's end
ERROR_LIMIT = 2000
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # safe in a Message-ID and a header

Sender = Callable[[OutboxMessage], None]


class PermanentFailure(Exception):
    """A delivery no retry can fix (endpoint gone or disabled): the row goes dead at once."""


@dataclass
class DeliveryReport:
    """What one `deliver_due` run did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min ... capped at 1 hour."""
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    if attempts > 12:  # 30 s * 2**11 is already past the cap; avoid huge powers
        return MAX_BACKOFF
    return min(BASE_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


def new_event_id() -> str:
    return uuid.uuid4().hex


def enqueue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    report_id: int | None = None,
    event_id: str | None = None,
) -> OutboxMessage:
    """Add an email to the caller's transaction (never commits)."""
    if not to.strip():
        raise InvalidInput("an email needs a recipient", field="to")
    return _add(
        session,
        channel="email",
        recipient=to.strip(),
        subject=subject,
        body=body,
        report_id=report_id,
        event_id=event_id,
    )


def enqueue_webhook(
    session: Session,
    *,
    endpoint: WebhookEndpoint,
    event: str,
    data: dict[str, Any],
    report_id: int | None = None,
    event_id: str | None = None,
) -> OutboxMessage:
    """Add a webhook event for `endpoint` to the caller's transaction (never commits).

    The body is `{"id": event_id, "type": event, "created_at": iso, "data": data}`, fixed now so
    every retry sends the same bytes.
    """
    event_id = _checked_event_id(event_id)
    body = json.dumps(
        {"id": event_id, "type": event, "created_at": clock.now().isoformat(), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return _add(
        session,
        channel="webhook",
        recipient=endpoint.url,
        subject=event,
        body=body,
        report_id=report_id,
        event_id=event_id,
        webhook_id=endpoint.id,
    )


def _checked_event_id(event_id: str | None) -> str:
    if event_id is None:
        return new_event_id()
    if not EVENT_ID.fullmatch(event_id):
        raise InvalidInput("event_id: 1-64 letters, digits, '.', '_' or '-'", field="event_id")
    return event_id


def _add(session: Session, *, event_id: str | None, **fields: Any) -> OutboxMessage:
    now = clock.now()
    message = OutboxMessage(
        event_id=_checked_event_id(event_id),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        **fields,
    )
    session.add(message)
    return message


def deliver_due(
    factory: sessionmaker,
    *,
    sender: Sender | None = None,
    smtp: mailer.SmtpSettings | None = None,
    limit: int = 100,
    worker: str | None = None,
) -> DeliveryReport:
    """Claim up to `limit` due messages, deliver each, and record every outcome.

    `sender` replaces the default dispatch (email via `smtp`, default `SmtpSettings.from_env()`;
    webhooks signed with their endpoint's secret). One failing message never stops the rest.
    """
    me = worker or f"{socket.gethostname()}:{os.getpid()}"
    report = DeliveryReport()
    messages, endpoints, lease_until = _claim(factory, limit=limit)
    if not messages:
        return report
    send = sender or default_sender(endpoints, smtp or mailer.SmtpSettings.from_env())
    for index, message in enumerate(messages):
        if clock.now() >= lease_until - LEASE_MARGIN:
            log.warning("outbox %s: lease ran out, %d left for later", me, len(messages) - index)
            break
        error: Exception | None = None
        try:
            send(message)
        except Exception as exc:  # any failure is recorded on the row and retried
            error = exc
        try:
            outcome = _record(factory, message.id, error)
        except Exception:  # one bad row must not stop the sweep; its lease brings it back
            log.exception("outbox %s: could not record outcome of message %s", me, message.id)
            continue
        if outcome == SENT:
            report.sent += 1
        elif outcome == DEAD:
            report.dead += 1
            log.error("outbox %s: message %s is dead: %s", me, message.id, error)
        elif outcome == PENDING:
            report.retried += 1
            log.warning("outbox %s: message %s failed, will retry: %s", me, message.id, error)
    return report


def _claim(
    factory: sessionmaker, *, limit: int
) -> tuple[list[OutboxMessage], dict[int, WebhookEndpoint], datetime]:
    """Lease due rows in one short transaction; returns them (detached) with their endpoints."""
    with factory() as session, session.begin():
        now = clock.now()
        lease_until = now + LEASE
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        messages = list(session.scalars(stmt))
        for message in messages:
            message.next_attempt_at = lease_until
        ids = {m.webhook_id for m in messages if m.webhook_id is not None}
        endpoints: dict[int, WebhookEndpoint] = {}
        if ids:
            found = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(ids)))
            endpoints = {endpoint.id: endpoint for endpoint in found}
        session.flush()
        session.expunge_all()  # plain snapshots for sending, untouched by the commit
    return messages, endpoints, lease_until


def _record(factory: sessionmaker, message_id: int, error: Exception | None) -> str:
    """Store one delivery outcome in its own transaction; returns the row's new status."""
    with factory() as session, session.begin():
        row = session.get(OutboxMessage, message_id, with_for_update=True)
        if row is None or row.status != PENDING:  # resolved meanwhile (another worker, operator)
            return "skipped"
        now = clock.now()
        if error is None:
            row.status = SENT
            row.sent_at = now
            return SENT
        row.attempts += 1
        row.last_error = (str(error) or type(error).__name__)[:ERROR_LIMIT]
        delay = backoff(row.attempts)
        if isinstance(error, PermanentFailure) or now + delay > row.created_at + RETRY_WINDOW:
            row.status = DEAD
            row.next_attempt_at = now
            return DEAD
        row.next_attempt_at = now + delay
        return PENDING


def default_sender(endpoints: Mapping[int, WebhookEndpoint], smtp: mailer.SmtpSettings) -> Sender:
    """Dispatch by channel: SMTP for email, a signed POST for webhooks."""

    def send(message: OutboxMessage) -> None:
        if message.channel == "email":
            mailer.send_email(smtp, message)
        elif message.channel == "webhook":
            endpoint = endpoints.get(message.webhook_id) if message.webhook_id else None
            if endpoint is None:
                raise PermanentFailure(f"webhook endpoint {message.webhook_id} does not exist")
            if not endpoint.active:
                raise PermanentFailure(f"webhook endpoint {endpoint.id} is inactive")
            webhooks.post_webhook(message, endpoint)
        else:
            raise PermanentFailure(f"unknown outbox channel {message.channel!r}")

    return send


def resend(session: Session, *, message_id: int, actor: str = "system") -> OutboxMessage:
    """Queue a dead or sent message again, now, with the same event id (one transaction).

    Attempts and `created_at` are kept, so the 24-hour retry window has passed for an old
    message: the re-send gets one attempt and, if that fails, is dead again with the new error.
    """
    with session.begin():
        row = session.get(OutboxMessage, message_id, with_for_update=True)
        if row is None:
            raise NotFound(f"outbox message {message_id} does not exist", field="message_id")
        if row.status == PENDING:
            raise Conflict(f"outbox message {message_id} is already pending")
        if not row.recipient or not row.body:  # emptied under retention (sla.retention)
            raise Conflict(
                f"outbox message {message_id} no longer has its content (retention)",
                code="content_removed",
            )
        previous = row.status
        row.status = PENDING
        row.next_attempt_at = clock.now()
        row.sent_at = None
        audit.record(
            session,
            actor=actor,
            action="outbox.resent",
            report_id=row.report_id,
            data={"message_id": row.id, "event_id": row.event_id, "previous_status": previous},
        )
    return row


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    limit: int = 100,
    webhook_id: int | None = None,
) -> Sequence[OutboxMessage]:
    """Newest messages first, optionally only one status (`pending`, `sent`, `dead`) or the
    deliveries of one webhook."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(OutboxMessage.status == status)
    if webhook_id is not None:
        stmt = stmt.where(OutboxMessage.webhook_id == webhook_id)
    return session.scalars(stmt).all()
