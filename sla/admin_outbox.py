"""The delivery outbox as operators see it: messages by status, and re-sending one.

For users with the `operator` role and national admins. Listing runs in its own transaction;
re-sending is `sla.outbox.resend`, which opens (and audits in) its own, so it is not nested here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from engine.db import valid_id
from engine.errors import InvalidInput, NotFound
from engine.services.auth import Principal
from sla import admin, outbox
from sla.models import OutboxMessage

ROLES = (admin.OPERATOR, admin.NATIONAL)
MAX_LIMIT = 200


def list_outbox(
    session: Session, *, principal: Principal, status: str | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    """Newest messages first, optionally of one status (`pending`, `sent`, `dead`)."""
    admin.require_role(principal, ROLES, "see the outbox")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    with session.begin():
        return outbox.list_messages(session, status=status, limit=limit)


def resend(session: Session, *, principal: Principal, message_id: int) -> OutboxMessage:
    """Queue a dead or sent message again, now, with its event id (audited `outbox.resent`)."""
    admin.require_role(principal, ROLES, "re-send outbox messages")
    if not valid_id(message_id):
        raise NotFound(f"outbox message {message_id} does not exist", field="message_id")
    return outbox.resend(session, message_id=message_id, actor=principal.actor)
