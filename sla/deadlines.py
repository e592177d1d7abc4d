"""Deadlines follow the report: computed when a task opens, dropped when it closes, and the
report-level ones (auto-close, the 60-day outer limit) set and cleared by status changes.

These run as in-transaction subscribers of engine events (`install`), so a deadline is written
in the same transaction as the change that caused it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock, events, status
from engine.models import HumanTask, Instansi, ProcessInstance, Report, TimelineEntry
from sla import policies
from sla.calendar import WorkingCalendar
from sla.calendar_service import calendar_for
from sla.models import Deadline

NATIONAL_CODE = "KEMENPANRB"
OMBUDSMAN_CODE = "OMBUDSMAN"
PENDING, FIRED, CANCELLED, FAILED = "pending", "fired", "cancelled", "failed"


def national_instansi(session: Session) -> Instansi:
    found = session.scalar(select(Instansi).where(Instansi.code == NATIONAL_CODE))
    if found is None:
        raise LookupError(f"the national instansi {NATIONAL_CODE} is not in the registry")
    return found


def responsible_instansi(session: Session, task: HumanTask) -> Instansi:
    """The instansi whose calendar counts the task's time (national tasks: KemenPANRB)."""
    if task.instansi_id is not None:
        found = session.get(Instansi, task.instansi_id)
        if found is not None:
            return found
    return national_instansi(session)


def working_days_between(cal: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Working days after the local day of `start`, up to and including that of `end`."""
    zone = cal.zone
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        count += cal.is_working_day(day)
    return count


def verification_clock(
    session: Session, report: Report, cal: WorkingCalendar
) -> tuple[datetime, int]:
    """(anchor, paused working days) of the verification clock, derived from the timeline:
    it starts at filing, restarts when an instansi returns the report (bukan wewenang), and
    pauses from tunda until the pelapor answers."""
    anchor, paused, hold_start = report.created_at, 0, None
    entries = session.scalars(
        select(TimelineEntry).where(TimelineEntry.report_id == report.id).order_by(TimelineEntry.id)
    ).all()
    for entry in entries:
        if entry.kind == "returned":
            anchor, paused, hold_start = entry.at, 0, None
        elif entry.kind == "on_hold":
            hold_start = entry.at
        elif entry.kind == "info_supplied" and hold_start is not None:
            paused += working_days_between(cal, hold_start, entry.at)
            hold_start = None
    return anchor, paused


def due_for(
    cal: WorkingCalendar, start: datetime, policy: policies.Policy, extra_days: int = 0
) -> tuple[datetime, datetime | None]:
    """(due, reminder moment) of a policy counted from `start`."""
    if policy.unit == policies.WORKING_HOURS:
        due = cal.add_office_hours(start, policy.duration).due_at
        remind = (
            cal.add_office_hours(start, policy.duration - policy.reminder).due_at
            if policy.reminder
            else None
        )
    else:
        due = cal.add_working_days(start, policy.duration + extra_days).due_at
        remind = (
            cal.add_working_days(start, policy.duration + extra_days - policy.reminder).due_at
            if policy.reminder
            else None
        )
    return due, remind


def schedule(
    session: Session,
    *,
    kind: str,
    report_id: int,
    due_at: datetime,
    task_id: int | None = None,
    level: int = 0,
    payload: dict | None = None,
) -> Deadline:
    row = Deadline(
        kind=kind,
        report_id=report_id,
        task_id=task_id,
        level=level,
        due_at=due_at,
        status=PENDING,
        payload=payload,
        created_at=clock.now(),
    )
    session.add(row)
    return row


def cancel(
    session: Session,
    *,
    report_id: int,
    task_id: int | None = None,
    kinds: tuple[str, ...] | None = None,
) -> None:
    stmt = update(Deadline).where(Deadline.report_id == report_id, Deadline.status == PENDING)
    if task_id is not None:
        stmt = stmt.where(Deadline.task_id == task_id)
    if kinds is not None:
        stmt = stmt.where(Deadline.kind.in_(kinds))
    session.execute(stmt.values(status=CANCELLED), execution_options={"synchronize_session": False})


def task_policy(session: Session, task: HumanTask, report: Report) -> policies.Policy:
    instance = session.get(ProcessInstance, task.instance_id)
    meta = (instance.definition.task_meta.get(task.bpmn_id) or {}) if instance else {}
    instansi = session.get(Instansi, task.instansi_id) if task.instansi_id else None
    return policies.resolve(
        session,
        instansi=instansi,
        milestone=task.milestone,
        classification=report.classification,
        sop_property=(meta.get("properties") or {}).get("sla"),
    )


def plan_task(session: Session, task: HumanTask, report: Report) -> datetime:
    """Set the task's due moment and its pending due/reminder deadlines from the current
    policy and calendar (used when a task opens and when a calendar or policy changes)."""
    cancel(session, report_id=report.id, task_id=task.id, kinds=("due", "reminder"))
    cal = calendar_for(session, responsible_instansi(session, task))
    policy = task_policy(session, task, report)
    start, extra = task.created_at, 0
    if task.milestone == "verification":
        start, extra = verification_clock(session, report, cal)
    due, remind = due_for(cal, start, policy, extra)
    task.due_at = due
    schedule(
        session,
        kind="due",
        report_id=report.id,
        task_id=task.id,
        due_at=due,
        payload={"policy": policy.source, "escalation_every": policy.escalation_every},
    )
    if remind is not None and remind > clock.now():
        schedule(session, kind="reminder", report_id=report.id, task_id=task.id, due_at=remind)
    return due


def replan_open_tasks(session: Session, *, instansi_ids: set[int] | None = None) -> int:
    """Recompute pending deadlines after a calendar or policy change, for tasks of these
    instansi (None = all): due moments of tasks not yet escalated, the next escalation level
    of escalated ones, and the auto-close of reports waiting for the pelapor. Returns how many
    moments moved."""
    stmt = select(HumanTask).where(HumanTask.status == "open")
    if instansi_ids is not None:
        stmt = stmt.where(HumanTask.instansi_id.in_(instansi_ids))
    moved = 0
    for task in session.scalars(stmt).all():
        report = session.get(Report, task.report_id)
        if report is None:
            continue
        if _escalated(session, task.id):
            cal = calendar_for(session, responsible_instansi(session, task))
            moved += _recount(session, cal, Deadline.task_id == task.id, {"escalation": None})
        else:
            before = task.due_at
            moved += plan_task(session, task, report) != before
    reports = select(Report).where(Report.status == status.FOLLOWED_UP)
    if instansi_ids is not None:
        reports = reports.where(Report.current_instansi_id.in_(instansi_ids))
    for report in session.scalars(reports).all():
        instansi = (
            session.get(Instansi, report.current_instansi_id)
            if report.current_instansi_id
            else None
        )
        cal = calendar_for(session, instansi or national_instansi(session))
        moved += _recount(
            session,
            cal,
            Deadline.report_id == report.id,
            {
                "auto_close": policies.AUTO_CLOSE_WORKING_DAYS,
                "auto_close_warning": policies.AUTO_CLOSE_WORKING_DAYS
                - policies.AUTO_CLOSE_WARNING_DAYS,
            },
        )
    return moved


def _escalated(session: Session, task_id: int) -> bool:
    return (
        session.scalar(
            select(Deadline.id)
            .where(
                Deadline.task_id == task_id,
                Deadline.kind.in_(("due", "escalation")),
                Deadline.status == FIRED,
            )
            .limit(1)
        )
        is not None
    )


def _recount(
    session: Session, cal: WorkingCalendar, scope: Any, days_by_kind: dict[str, int | None]
) -> int:
    """Count pending deadlines of these kinds again from the moment they were scheduled
    (None: the escalation interval stored on the row)."""
    moved = 0
    rows = session.scalars(
        select(Deadline).where(
            scope, Deadline.status == PENDING, Deadline.kind.in_(tuple(days_by_kind))
        )
    ).all()
    for row in rows:
        days = days_by_kind[row.kind]
        if days is None:
            days = int((row.payload or {}).get("escalation_every", 2))
        due = cal.add_working_days(row.created_at, days).due_at
        if due != row.due_at:
            row.due_at = due
            moved += 1
    return moved


def on_task_opened(session: Session, event: events.Event) -> None:
    """A task offered anew (opened, or moved to another instansi by a registry merge or split)
    starts its clock again: whatever was pending for it, escalations included, is cancelled."""
    task = session.get(HumanTask, event.payload["task_id"])
    report = session.get(Report, event.report_id)
    if task is not None and report is not None:
        cancel(session, report_id=report.id, task_id=task.id)
        plan_task(session, task, report)


def on_task_closed(session: Session, event: events.Event) -> None:
    cancel(session, report_id=event.report_id, task_id=event.payload["task_id"])


def on_status_changed(session: Session, event: events.Event) -> None:
    report = session.get(Report, event.report_id)
    if report is None:
        return
    new = event.payload["to"]
    now = clock.now()
    if new in status.FINAL:
        cancel(session, report_id=report.id)
        return
    if new != status.FOLLOWED_UP:
        cancel(session, report_id=report.id, kinds=("auto_close", "auto_close_warning"))
    if new == status.FORWARDED and not _pending(session, report.id, "outer_limit"):
        schedule(
            session,
            kind="outer_limit",
            report_id=report.id,
            due_at=now + timedelta(days=policies.OUTER_LIMIT_DAYS),
        )
    if new == status.PENDING_VERIFICATION and event.payload.get("kind") == "returned":
        cancel(session, report_id=report.id, kinds=("outer_limit",))
    if new == status.FOLLOWED_UP:
        instansi = (
            session.get(Instansi, report.current_instansi_id)
            if report.current_instansi_id
            else None
        )
        cal = calendar_for(session, instansi or national_instansi(session))
        schedule(
            session,
            kind="auto_close",
            report_id=report.id,
            due_at=cal.add_working_days(now, policies.AUTO_CLOSE_WORKING_DAYS).due_at,
        )
        schedule(
            session,
            kind="auto_close_warning",
            report_id=report.id,
            due_at=cal.add_working_days(
                now, policies.AUTO_CLOSE_WORKING_DAYS - policies.AUTO_CLOSE_WARNING_DAYS
            ).due_at,
        )


def _pending(session: Session, report_id: int, kind: str) -> bool:
    return (
        session.scalar(
            select(Deadline.id)
            .where(
                Deadline.report_id == report_id, Deadline.kind == kind, Deadline.status == PENDING
            )
            .limit(1)
        )
        is not None
    )


def install() -> None:
    """Subscribe the deadline bookkeeping to engine events (idempotent)."""
    events.subscribe(events.TASK_OPENED, on_task_opened)
    events.subscribe(events.TASK_CLOSED, on_task_closed)
    events.subscribe(events.STATUS_CHANGED, on_status_changed)
