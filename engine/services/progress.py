"""What a completed step means for the report: status, routing and the public timeline.

Keyed on milestones and the contract's variables (docs/bpmn-contract.md), never on task ids, so a
variant SOP drives the report the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock, events, status
from engine.errors import InvalidInput
from engine.models import Instansi, Report, TimelineEntry, Unit


def add_timeline(
    session: Session,
    report: Report,
    kind: str,
    *,
    new_status: str | None = None,
    text: str | None = None,
    public: bool = True,
    data: dict[str, Any] | None = None,
) -> None:
    """Append a timeline entry; when `new_status` is given, move the report through the table.

    The entry is added before STATUS_CHANGED is published, so subscribers see it.
    """
    now = clock.now()
    old = report.status
    changed = new_status is not None and new_status != old
    if changed:
        status.check_transition(old, new_status)  # type: ignore[arg-type]
        report.status = new_status  # type: ignore[assignment]
        if new_status in status.FINAL:
            report.closed_at = now
    report.updated_at = now
    session.add(
        TimelineEntry(
            report_id=report.id,
            at=now,
            kind=kind,
            status=new_status,
            public=public,
            text=text,
            data=data,
        )
    )
    if changed:
        events.publish(
            session,
            events.Event(
                events.STATUS_CHANGED,
                report.id,
                {"from": old, "to": new_status, "kind": kind, "text": text},
            ),
        )


def latest_entry(session: Session, report_id: int, kind: str | None) -> TimelineEntry | None:
    """The report's newest timeline entry of `kind` (autoflush includes one just added)."""
    return session.scalar(
        select(TimelineEntry)
        .where(TimelineEntry.report_id == report_id, TimelineEntry.kind == kind)
        .order_by(TimelineEntry.id.desc())
        .limit(1)
    )


def resolve_instansi(session: Session, code: Any, field: str) -> Instansi:
    if not isinstance(code, str) or not code:
        raise InvalidInput("an instansi code is required", field=field)
    found = session.scalar(select(Instansi).where(Instansi.code == code))
    if found is None or not found.active:
        raise InvalidInput(f"unknown instansi '{code}'", field=field)
    return found


def resolve_unit(session: Session, instansi_id: int | None, code: Any, field: str) -> Unit:
    if not isinstance(code, str) or not code:
        raise InvalidInput("a unit code is required", field=field)
    found = session.scalar(select(Unit).where(Unit.code == code))
    if found is None or found.instansi_id != instansi_id:
        raise InvalidInput(f"unknown unit '{code}' for this instansi", field=field)
    return found


def check_references(
    session: Session, report: Report, milestone: str | None, data: dict[str, Any]
) -> None:
    """Refuse a task completion that names an unknown instansi/unit, before the engine runs."""
    outcome = data.get("outcome")
    if milestone == "verification" and outcome == "forward":
        resolve_instansi(session, data.get("target_instansi"), "target_instansi")
    if milestone == "disposition" and outcome == "disposisi":
        resolve_unit(session, report.current_instansi_id, data.get("target_unit"), "target_unit")
    if (
        outcome in {"tunda", "bukan_wewenang", "arsipkan"}
        and not str(data.get("reason") or "").strip()
    ):
        raise InvalidInput(f"a reason is required for outcome '{outcome}'", field="reason")


def apply_task_outcome(
    session: Session, report: Report, milestone: str | None, data: dict[str, Any]
) -> None:
    """Route the report and move its status for a human task just completed."""
    outcome = data.get("outcome")
    reason = data.get("reason")
    if milestone == "verification":
        if outcome == "forward":
            target = resolve_instansi(session, data.get("target_instansi"), "target_instansi")
            report.current_instansi_id = target.id
            report.current_unit_id = None
            add_timeline(
                session,
                report,
                "forwarded",
                new_status=status.FORWARDED,
                data={"instansi": target.code, "instansi_name": target.name},
            )
        elif outcome == "tunda":
            add_timeline(session, report, "on_hold", new_status=status.ON_HOLD, text=reason)
        elif outcome == "bukan_wewenang":
            add_timeline(session, report, "rejected", new_status=status.REJECTED, text=reason)
        elif outcome == "arsipkan":
            add_timeline(session, report, "archived", new_status=status.ARCHIVED, text=reason)
    elif milestone == "disposition":
        if outcome == "bukan_wewenang":
            report.current_instansi_id = None
            report.current_unit_id = None
            add_timeline(
                session, report, "returned", new_status=status.PENDING_VERIFICATION, text=reason
            )
        else:
            unit = resolve_unit(
                session, report.current_instansi_id, data.get("target_unit"), "target_unit"
            )
            report.current_unit_id = unit.id
            add_timeline(
                session,
                report,
                "disposed",
                new_status=status.IN_PROGRESS,
                data={"unit": unit.code, "unit_name": unit.name},
            )
    elif milestone == "follow-up":
        add_timeline(
            session,
            report,
            "follow_up",
            new_status=status.FOLLOWED_UP,
            text=data.get("tindak_lanjut"),
        )
