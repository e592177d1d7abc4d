"""One way to alert a staff user: an in-app alert, and an email through the outbox when the
user has an address (with a stable event id, so the receiver can drop duplicates)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine import clock
from engine.models import Report, User
from sla import outbox
from sla.models import Alert


def alert_user(
    session: Session,
    *,
    user: User,
    report: Report,
    kind: str,
    title: str,
    body: str,
    event_id: str | None = None,
    escalation_id: int | None = None,
) -> Alert:
    """Add the alert (and queue its email) in the caller's transaction.

    Without `event_id`, the email's id is derived from the alert's own id.
    """
    alert = Alert(
        user_id=user.id,
        report_id=report.id,
        kind=kind,
        title=title,
        body=body,
        created_at=clock.now(),
        escalation_id=escalation_id,
    )
    session.add(alert)
    if user.email:
        if event_id is None:
            session.flush()
            event_id = f"alert{alert.id}"
        outbox.enqueue_email(
            session, to=user.email, subject=title, body=body, report_id=report.id, event_id=event_id
        )
    return alert
