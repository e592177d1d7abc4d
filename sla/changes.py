"""The change feed: what happened to reports, as webhooks and as a feed pulled by cursor.

Each change (filed, forwarded, in progress, on hold, followed up, reopened, closed, returned to
verification, escalated, auto-close warning) is recorded once, in the transaction that caused
it, as a `ChangeEvent` with a stable event id derived from its cause, and fanned out through
the signed outbox to the active webhooks that want it:

- `instansi` webhooks of the instansi handling the report (what an agency's own system needs);
- `channel` webhooks of the integrated app (API key) that filed it: the app relays the notices
  meant for its pelapor (on hold with what is missing, follow-up, auto-close warning, closed).

No change carries the pelapor's identity; texts are those of public timeline entries only.

An app whose endpoint was down pulls `changes_since(cursor)`. Cursors are `seq` numbers given
by `sequence`, after commit, under a lock on the one `ChangeSequence` row: an event whose
transaction committed late gets a later number, so a cursor never skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine import clock, events, status
from engine.errors import InvalidInput
from engine.models import ChangeEvent, ChangeSequence, Report, ReportChannel
from engine.services.auth import Principal
from engine.services.progress import latest_entry
from sla import admin, outbox
from sla.models import WebhookEndpoint

FILED = "report.filed"
ESCALATED = "report.escalated"
AUTO_CLOSE_WARNING = "report.auto_close_warning"
STATUS_TYPES = {
    status.FORWARDED: "report.forwarded",
    status.IN_PROGRESS: "report.in_progress",
    status.ON_HOLD: "report.on_hold",
    status.FOLLOWED_UP: "report.followed_up",
    status.REOPENED: "report.reopened",
    status.CLOSED: "report.closed",
    status.REJECTED: "report.closed",
    status.ARCHIVED: "report.closed",
    status.PENDING_VERIFICATION: "report.returned",
}
TYPES = tuple(sorted({FILED, ESCALATED, AUTO_CLOSE_WARNING, *STATUS_TYPES.values()}))
SOURCES = ("instansi", "channel")
MAX_PAGE = 500


@dataclass(frozen=True)
class Page:
    """Changes after a cursor, and the cursor to ask with next (unchanged when none)."""

    changes: list[ChangeEvent]
    next_cursor: int


def record(
    session: Session,
    report: Report,
    *,
    type: str,
    cause: str,
    data: dict[str, Any] | None = None,
) -> ChangeEvent | None:
    """Record a change of `report` and queue its webhooks, in the caller's transaction.

    `cause` names what caused it (a timeline entry, an escalation...), so recording the same
    cause twice does nothing and returns None.
    """
    event_id = f"r{report.id}-{cause}"
    if session.scalar(select(ChangeEvent.id).where(ChangeEvent.event_id == event_id)):
        return None
    channel = session.get(ReportChannel, report.id)
    change = ChangeEvent(
        event_id=event_id,
        type=type,
        report_id=report.id,
        instansi_id=report.current_instansi_id,
        channel_key_id=channel.api_key_id if channel else None,
        data={
            "tracking_id": report.tracking_id,
            "status": report.status,
            "instansi": admin.code_of(session, report.current_instansi_id),
            "external_ref": channel.external_ref if channel else None,
            **(data or {}),
        },
        created_at=clock.now(),
    )
    session.add(change)
    session.flush()
    subscribers = webhooks_for(
        session, type=type, instansi_id=change.instansi_id, api_key_id=change.channel_key_id
    )
    for endpoint in subscribers:
        outbox.enqueue_webhook(
            session,
            endpoint=endpoint,
            event=type,
            report_id=report.id,
            event_id=f"{event_id}-w{endpoint.id}",
            data={"change_id": change.id, **change.data},
        )
    return change


def webhooks_for(
    session: Session, *, type: str, instansi_id: int | None, api_key_id: int | None = None
) -> list[WebhookEndpoint]:
    """The active endpoints that want an event of `type`: the `instansi` ones of `instansi_id`
    and the `channel` ones of `api_key_id`, each unless its `event_types` leave `type` out."""
    wanted = []
    if instansi_id is not None:
        wanted.append(
            (WebhookEndpoint.source == "instansi") & (WebhookEndpoint.instansi_id == instansi_id)
        )
    if api_key_id is not None:
        wanted.append(
            (WebhookEndpoint.source == "channel") & (WebhookEndpoint.api_key_id == api_key_id)
        )
    if not wanted:
        return []
    rows = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.active.is_(True), or_(*wanted))
        .order_by(WebhookEndpoint.id)
    )
    return [row for row in rows if row.event_types is None or type in row.event_types]


def on_report_filed(session: Session, event: events.Event) -> None:
    report = session.get(Report, event.report_id)
    if report is not None:
        record(session, report, type=FILED, cause="filed")


def on_status_changed(session: Session, event: events.Event) -> None:
    report = session.get(Report, event.report_id)
    new = event.payload["to"]
    if report is None or new not in STATUS_TYPES:
        return
    entry = latest_entry(session, report.id, event.payload.get("kind"))
    if entry is None:
        return
    record(
        session,
        report,
        type=STATUS_TYPES[new],
        cause=f"t{entry.id}",
        data={
            "previous_status": event.payload["from"],
            "kind": entry.kind,
            "text": entry.text if entry.public else None,
            "at": entry.at.isoformat(),
        },
    )


def escalated(session: Session, report: Report, *, escalation_id: int, level: int, to: str) -> None:
    """Record that an overdue task of `report` was escalated to the instansi coded `to`."""
    record(
        session,
        report,
        type=ESCALATED,
        cause=f"esc{escalation_id}",
        data={"level": level, "escalated_to": to},
    )


def auto_close_warned(session: Session, report: Report, *, deadline_id: int, days: int) -> None:
    """Record the warning that `report` closes by itself after `days` more working days."""
    record(
        session,
        report,
        type=AUTO_CLOSE_WARNING,
        cause=f"warn{deadline_id}",
        data={"working_days_left": days},
    )


def sequence(session: Session) -> int:
    """Number the committed changes that have no `seq` yet, in id order; one transaction.

    Holds the `ChangeSequence` row lock while numbering, so numbering is serial: an event
    committed after this ran is numbered by a later run, above every number given here.
    Returns the last number given.
    """
    with session.begin():
        last = session.scalar(
            select(ChangeSequence.last_seq).where(ChangeSequence.id == 1).with_for_update()
        )
        if last is None:  # a database made without the migration's row
            session.add(ChangeSequence(id=1, last_seq=0))
            last = 0
        pending = session.scalars(
            select(ChangeEvent.id).where(ChangeEvent.seq.is_(None)).order_by(ChangeEvent.id)
        ).all()
        for change_id in pending:
            last += 1
            session.execute(update(ChangeEvent).where(ChangeEvent.id == change_id).values(seq=last))
        if pending:
            session.execute(
                update(ChangeSequence).where(ChangeSequence.id == 1).values(last_seq=last)
            )
    return last


def changes_since(
    session: Session,
    *,
    principal: Principal,
    after: int,
    limit: int = 100,
    source: str | None = None,
) -> Page:
    """The changes the principal may see with `seq` above `after`, oldest first.

    An API key sees by default the changes of reports it filed (`source=channel`); with
    `source=instansi`, the changes of the instansi the principal administers (an instansi-wide
    key or `admin_instansi`; national admins: all).
    """
    if principal.api_key_id is None:
        admin.require_role(principal, admin.ADMINS, "read the change feed")
    if after < 0:
        raise InvalidInput("after must be 0 or a cursor this feed gave", field="after")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")
    chosen = source or ("channel" if principal.api_key_id is not None else "instansi")
    if chosen not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", field="source")
    if chosen == "channel" and principal.api_key_id is None:
        raise InvalidInput("source=channel is for apps with an API key", field="source")
    sequence(session)
    with session.begin():
        stmt = select(ChangeEvent).where(ChangeEvent.seq > after)
        if chosen == "channel":
            stmt = stmt.where(ChangeEvent.channel_key_id == principal.api_key_id)
        elif not admin.is_national(principal):
            stmt = stmt.where(ChangeEvent.instansi_id.in_(admin.administered(principal)))
        rows = list(session.scalars(stmt.order_by(ChangeEvent.seq).limit(limit)))
        for row in rows:
            session.expunge(row)
    return Page(rows, rows[-1].seq if rows and rows[-1].seq is not None else after)


def install() -> None:
    """Subscribe the change feed to engine events (idempotent)."""
    events.subscribe(events.REPORT_FILED, on_report_filed)
    events.subscribe(events.STATUS_CHANGED, on_status_changed)
