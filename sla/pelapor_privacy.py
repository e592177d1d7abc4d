"""What the outbox holds for a pelapor, for their data requests and identity deletion
(engine.services.privacy publishes both as in-transaction events).

A data request lists every email sent or queued to the pelapor about the report: subject,
when it was queued and when it went out (the bodies and the address are the ones they received).
When the identity is erased, emails still waiting to go to the pelapor are cancelled (deleted:
they hold the address), and the address is blanked on the report's emails already sent or given
up on. A re-sent tracking link mail has no report: one still waiting for that address goes too.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from engine import events
from sla import outbox
from sla.models import OutboxMessage
from sla.pelapor_notices import RESEND_PREFIX

ERASED_RECIPIENT = "(dihapus)"


def _resent_to(email: str | None) -> ColumnElement[bool]:
    """The re-sent tracking link mails to `email` (they name no report)."""
    return (
        OutboxMessage.report_id.is_(None)
        & OutboxMessage.event_id.startswith(RESEND_PREFIX)
        & (func.lower(OutboxMessage.recipient) == (email or "").strip().lower())
    )


def on_personal_data_requested(session: Session, event: events.Event) -> None:
    email = event.payload.get("email")
    about_report = OutboxMessage.report_id == event.report_id
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == "email",
            (about_report | _resent_to(email)) if email else about_report,
        )
        .order_by(OutboxMessage.id)
    )
    event.payload["held"]["emails"] = [
        {
            "subject": row.subject,
            "queued_at": row.created_at,
            "sent_at": row.sent_at,
            "status": row.status,
        }
        for row in rows
    ]


def on_identity_erased(session: Session, event: events.Event) -> None:
    pending = (OutboxMessage.channel == "email") & (OutboxMessage.status == outbox.PENDING)
    session.execute(
        delete(OutboxMessage)
        .where(pending, OutboxMessage.report_id == event.report_id)
        .execution_options(synchronize_session=False)
    )
    email = event.payload.get("email")
    if email:
        session.execute(
            delete(OutboxMessage)
            .where(pending, _resent_to(email))
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.report_id == event.report_id, OutboxMessage.channel == "email")
        .values(recipient=ERASED_RECIPIENT)
        .execution_options(synchronize_session=False)
    )


def install() -> None:
    """Subscribe to the engine's privacy events (idempotent)."""
    events.subscribe(events.PERSONAL_DATA_REQUESTED, on_personal_data_requested)
    events.subscribe(events.IDENTITY_ERASED, on_identity_erased)
