"""What an officer reads and writes on a report beside a task's form: the inbox rows (task plus
the report's tracking id and title), the case file (the report, its full timeline with internal
entries, the pelapor's identity withheld when anonim) and internal notes on the timeline.

Everything is reached through the task list or a task the officer may see (`tasks.list_for`,
`tasks.get` authorise): another instansi's task is a NotFound, exactly like a missing one.
An anonymous pelapor's identity never leaves this module: the case file has no field for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import HumanTask, Instansi, Region, Report, TimelineEntry, Unit
from engine.services import audit, tasks
from engine.services.auth import Principal
from engine.services.progress import add_timeline
from engine.text import check_storable

NOTE_KIND = "officer_note"
MAX_NOTE = 4000
HOME_ZONE = "Asia/Jakarta"  # national admins (no instansi) read times in WIB, like KemenPANRB


def time_zone(session: Session, *, principal: Principal) -> str:
    """The IANA time zone of the officer's instansi (of their first membership that has one),
    in which their pages show times; WIB for national staff."""
    ids = [m.instansi_id for m in principal.memberships if m.instansi_id is not None]
    if not ids:
        return HOME_ZONE
    with session.begin():
        rows = session.execute(select(Instansi.id, Instansi.timezone).where(Instansi.id.in_(ids)))
        zones: dict[int, str] = {row.id: row.timezone for row in rows}
    return next((zones[i] for i in ids if i in zones), HOME_ZONE)


@dataclass(frozen=True)
class InboxRow:
    task: HumanTask
    tracking_id: str
    title: str


def inbox(
    session: Session,
    *,
    principal: Principal,
    milestone: str | None = None,
    who: str | None = None,
    ids: Sequence[int] | None = None,
    where: Sequence[Any] = (),
    limit: int = 200,
    offset: int = 0,
) -> list[InboxRow]:
    """The principal's task list (`tasks.list_for`: filtered and paged in SQL, soonest due
    first) with report labels."""
    rows = tasks.list_for(
        session,
        principal=principal,
        milestone=milestone,
        who=who,
        ids=ids,
        where=where,
        limit=limit,
        offset=offset,
    )
    if not rows:
        return []
    with session.begin():
        labels = {
            r.id: (r.tracking_id, r.title)
            for r in session.execute(
                select(Report.id, Report.tracking_id, Report.title).where(
                    Report.id.in_({t.report_id for t in rows})
                )
            )
        }
    return [InboxRow(t, *labels[t.report_id]) for t in rows]


@dataclass(frozen=True)
class Pelapor:
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    status: str | None
    public: bool
    text: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class CaseFile:
    task: HumanTask
    form_schema: dict[str, Any] | None
    tracking_id: str
    classification: str
    category: str
    title: str
    body: str
    region: str
    status: str
    anonim: bool
    rahasia: bool
    created_at: datetime
    pelapor: Pelapor | None  # None when the report is anonim
    target_instansi: tuple[str, str] | None  # (code, name) the pelapor chose, if any
    current_instansi: tuple[str, str] | None
    units: list[tuple[str, str]]  # (code, name) of the current instansi's units
    timeline: list[TimelineItem]


def _named(row: Instansi | None) -> tuple[str, str] | None:
    return (row.code, row.name) if row is not None else None


def case_file(session: Session, *, principal: Principal, task_id: int) -> CaseFile:
    """The task with everything an officer needs to decide it (NotFound when not visible)."""
    view = tasks.get(session, principal=principal, task_id=task_id)
    with session.begin():
        report = session.get(Report, view.report.id)
        assert report is not None
        region = session.get(Region, report.region_code)
        current = (
            session.get(Instansi, report.current_instansi_id)
            if report.current_instansi_id
            else None
        )
        target = (
            session.get(Instansi, report.target_instansi_id) if report.target_instansi_id else None
        )
        units = (
            [
                (u.code, u.name)
                for u in session.scalars(
                    select(Unit).where(Unit.instansi_id == current.id).order_by(Unit.name)
                )
            ]
            if current is not None
            else []
        )
        pelapor = (
            None
            if report.anonim
            else Pelapor(report.pelapor_name, report.pelapor_email, report.pelapor_phone)
        )
        return CaseFile(
            task=view.task,
            form_schema=view.form_schema,
            tracking_id=report.tracking_id,
            classification=report.classification,
            category=report.category,
            title=report.title,
            body=report.body,
            region=region.name if region is not None else report.region_code,
            status=report.status,
            anonim=report.anonim,
            rahasia=report.rahasia,
            created_at=report.created_at,
            pelapor=pelapor,
            target_instansi=_named(target),
            current_instansi=_named(current),
            units=units,
            timeline=[
                TimelineItem(t.at, t.kind, t.status, t.public, t.text, dict(t.data or {}))
                for t in report.timeline
            ],
        )


def add_note(session: Session, *, principal: Principal, task_id: int, text: str) -> TimelineEntry:
    """An internal note by an officer who may see the task, on its report's timeline (never
    shown to the pelapor or the public), audited."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput("a note needs text", field="text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"at most {MAX_NOTE} characters", field="text")
    check_storable(text, "text")
    view = tasks.get(session, principal=principal, task_id=task_id)  # authorises
    with session.begin():
        report = session.get(Report, view.report.id)
        assert report is not None
        add_timeline(
            session,
            report,
            NOTE_KIND,
            public=False,
            text=text,
            data={"author": principal.username, "task_id": view.task.id},
        )
        audit.record(
            session,
            actor=principal.actor,
            action="report.note_added",
            report_id=report.id,
            task_id=view.task.id,
            data={"length": len(text)},
        )
        entry = report.timeline[-1]
    return entry
