"""Webhook endpoints an instansi or an integrated app configures to receive events, signed.

An endpoint's `source` says what it receives: `instansi` endpoints get the changes of the
reports their instansi handles and its supervisors' alerts; `channel` endpoints get the changes
of the reports their app (API key) filed (`sla.changes`). `event_types` narrows either to some
types (none: all). `deliveries` is an endpoint's delivery log (its outbox messages).

The secret is generated here (`secrets.token_urlsafe(32)`) and shown once, in the answer to
`create_webhook`; listings never show it. Deleting an endpoint deactivates it (its past
deliveries keep their reference; pending ones go dead as "inactive"). `send_test` queues a
`test` event through the outbox, delivered and signed like any other. An instansi's own
`admin_instansi` or a national admin may do each of these; each is one audited transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db import valid_id
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models.users import ApiKey
from engine.services import audit
from engine.services.auth import Principal
from engine.text import check_storable
from sla import admin, changes, outbox
from sla.models import OutboxMessage, WebhookEndpoint

MAX_URL = 500
MAX_ACTIVE_PER_INSTANSI = 10
MAX_DELIVERIES = 200
TEST_EVENT = "test"
# what an `instansi` endpoint may also ask for: its supervisors' alerts (sla.escalation.notify)
ALERT_TYPES = ("escalation", "outer_limit", "supervision_reminder")


@dataclass(frozen=True)
class WebhookView:
    """An endpoint as listed (never with its secret)."""

    id: int
    instansi_code: str | None
    url: str
    active: bool
    created_at: datetime
    source: str
    api_key_id: int | None
    event_types: list[str] | None


def _view(session: Session, row: WebhookEndpoint) -> WebhookView:
    return WebhookView(
        row.id,
        admin.code_of(session, row.instansi_id),
        row.url,
        row.active,
        row.created_at,
        row.source,
        row.api_key_id,
        row.event_types,
    )


def checked_url(url: object) -> str:
    """An absolute http(s) URL with a host, ASCII only, no credentials, at most 500 chars."""
    text = url.strip() if isinstance(url, str) else ""
    if not text or len(text) > MAX_URL:
        raise InvalidInput(f"url: 1 to {MAX_URL} characters are required", field="url")
    check_storable(text, "url")
    if not text.isascii() or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidInput("url must be ASCII without spaces (percent-encode)", field="url")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise InvalidInput("url is not a valid URL", field="url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url must be an http:// or https:// URL with a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not carry credentials (events are signed)", field="url")
    return text


def _endpoint(
    session: Session, principal: Principal, webhook_id: int, *, lock: bool = True
) -> WebhookEndpoint:
    """The endpoint (locked unless `lock=False`), if the principal may manage it."""
    row = None
    if valid_id(webhook_id):
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == webhook_id)
        row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound("no such webhook", field="webhook_id")
    if not (admin.is_national(principal) or admin.administers(principal, row.instansi_id)):
        raise Forbidden("only admins of its instansi may manage this webhook", field="role")
    return row


def list_webhooks(
    session: Session, *, principal: Principal, instansi_code: str | None = None
) -> list[WebhookView]:
    """The endpoints of the instansi (none given: every one a national admin may see, or the
    principal's own instansi's), active or not, oldest first."""
    admin.require_role(principal, admin.ADMINS, "see webhooks")
    with session.begin():
        stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
        if instansi_code is not None:
            instansi = admin.find_instansi(session, instansi_code, "instansi")
            admin.require_admin_of(principal, instansi, "see webhooks")
            stmt = stmt.where(WebhookEndpoint.instansi_id == instansi.id)
        elif not admin.is_national(principal):
            stmt = stmt.where(WebhookEndpoint.instansi_id.in_(admin.administered(principal)))
        return [_view(session, row) for row in session.scalars(stmt)]


def checked_event_types(source: str, event_types: list[str] | None) -> list[str] | None:
    """The distinct types asked for, sorted (None: every type); an unknown one is refused."""
    if event_types is None:
        return None
    known = changes.TYPES + (ALERT_TYPES if source == "instansi" else ())
    unknown = sorted(set(event_types) - set(known))
    if unknown or not event_types:
        raise InvalidInput(
            f"event_types: unknown {', '.join(unknown)}" if unknown else "event_types is empty",
            field="event_types",
        )
    return sorted(set(event_types))


def _channel_key(session: Session, principal: Principal, api_key_id: int | None) -> ApiKey:
    """The app key a `channel` endpoint follows: the calling key, or one the admin manages."""
    key_id = api_key_id if api_key_id is not None else principal.api_key_id
    if key_id is None:
        raise InvalidInput("a channel webhook needs api_key_id", field="api_key_id")
    key = session.get(ApiKey, key_id) if valid_id(key_id) else None
    mine = principal.api_key_id == key_id or (
        key is not None
        and principal.api_key_id is None
        and (admin.is_national(principal) or admin.administers(principal, key.instansi_id))
    )
    if key is None or key.revoked_at is not None or not mine:
        raise NotFound("no such API key", field="api_key_id")
    return key


def create_webhook(
    session: Session,
    *,
    principal: Principal,
    instansi_code: str | None,
    url: str,
    source: str = "instansi",
    api_key_id: int | None = None,
    event_types: list[str] | None = None,
) -> tuple[WebhookView, str]:
    """Register an endpoint; returns it and its signing secret (shown this once only)."""
    admin.require_role(principal, admin.ADMINS, "configure webhooks")
    if source not in changes.SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(changes.SOURCES)}", field="source")
    types = checked_event_types(source, event_types)
    with session.begin():
        key = _channel_key(session, principal, api_key_id) if source == "channel" else None
        if key is not None and instansi_code is None:
            instansi_code = admin.code_of(session, key.instansi_id)
        if instansi_code is None:
            raise InvalidInput("instansi is required", field="instansi")
        instansi = admin.find_instansi(session, instansi_code, "instansi")
        admin.require_admin_of(principal, instansi, "configure webhooks")
        if key is not None and key.instansi_id != instansi.id:
            raise InvalidInput("the API key belongs to another instansi", field="instansi")
        clean = checked_url(url)
        active = session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.instansi_id == instansi.id, WebhookEndpoint.active.is_(True))
        )
        if (active or 0) >= MAX_ACTIVE_PER_INSTANSI:
            raise Conflict(
                f"{instansi.code} already has {MAX_ACTIVE_PER_INSTANSI} active webhooks",
                field="url",
            )
        secret = secrets.token_urlsafe(32)
        row = WebhookEndpoint(
            instansi_id=instansi.id,
            url=clean,
            secret=secret,
            active=True,
            created_at=clock.now(),
            source=source,
            api_key_id=key.id if key is not None else None,
            event_types=types,
        )
        session.add(row)
        session.flush()
        view = _view(session, row)
        audit.record(
            session,
            actor=principal.actor,
            action="webhook.created",
            data={
                "webhook_id": row.id,
                "instansi_code": instansi.code,
                "url": clean,
                "source": source,
                "api_key_id": row.api_key_id,
            },
        )
    return view, secret


def delete_webhook(session: Session, *, principal: Principal, webhook_id: int) -> WebhookView:
    """Deactivate an endpoint: nothing more is sent to it."""
    admin.require_role(principal, admin.ADMINS, "configure webhooks")
    with session.begin():
        row = _endpoint(session, principal, webhook_id)
        if not row.active:
            raise Conflict("this webhook is already inactive", field="webhook_id")
        row.active = False
        view = _view(session, row)
        audit.record(
            session,
            actor=principal.actor,
            action="webhook.deactivated",
            data={"webhook_id": row.id, "instansi_code": view.instansi_code, "url": row.url},
        )
    return view


def send_test(session: Session, *, principal: Principal, webhook_id: int) -> OutboxMessage:
    """Queue a signed `test` event for an active endpoint; returns the outbox message."""
    admin.require_role(principal, admin.ADMINS, "test webhooks")
    with session.begin():
        row = _endpoint(session, principal, webhook_id)
        if not row.active:
            raise Conflict("this webhook is inactive", field="webhook_id")
        instansi_code = admin.code_of(session, row.instansi_id)
        message = outbox.enqueue_webhook(
            session,
            endpoint=row,
            event=TEST_EVENT,
            data={
                "webhook_id": row.id,
                "instansi": instansi_code,
                "requested_by": principal.username,
            },
        )
        session.flush()
        audit.record(
            session,
            actor=principal.actor,
            action="webhook.test_sent",
            data={"webhook_id": row.id, "message_id": message.id, "event_id": message.event_id},
        )
    return message


def deliveries(
    session: Session, *, principal: Principal, webhook_id: int, limit: int = 50
) -> list[OutboxMessage]:
    """The endpoint's delivery log: its outbox messages, newest first."""
    admin.require_role(principal, admin.ADMINS, "see webhook deliveries")
    if not 1 <= limit <= MAX_DELIVERIES:
        raise InvalidInput(f"limit must be 1 to {MAX_DELIVERIES}", field="limit")
    with session.begin():
        row = _endpoint(session, principal, webhook_id, lock=False)
        found = list(outbox.list_messages(session, limit=limit, webhook_id=row.id))
        for message in found:
            session.expunge(message)
        return found


def get_webhook(session: Session, *, principal: Principal, webhook_id: int) -> WebhookView:
    """One endpoint (never its secret), for those who may manage it."""
    admin.require_role(principal, admin.ADMINS, "see webhooks")
    with session.begin():
        return _view(session, _endpoint(session, principal, webhook_id, lock=False))
