"""Supervisor interventions on an escalated report: remind, new deadline, reassign, take over.

National admins may act on every report; a `supervisor` or `admin_instansi` when the open task
was escalated to their instansi or one below it in the tree; anyone else gets 404, as for a
missing report. Each action is one transaction with an audit event and a private timeline entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, status
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import HumanTask, Instansi, ProcessInstance, Report, Unit, User
from engine.services import audit, driver
from engine.services.auth import Principal
from engine.services.progress import add_timeline, resolve_instansi, resolve_unit
from engine.services.reports import is_tracking_id
from engine.text import check_storable
from sla import deadlines, escalation
from sla.alerts import alert_user
from sla.calendar_service import calendar_for
from sla.models import Deadline, Escalation

NATIONAL = "admin_nasional"
ACTING_ROLES = ("supervisor", "admin_instansi")
MAX_WORKING_DAYS = 60  # how far ahead a supervisor may set a new deadline
MAX_TEXT = 2000
Actor = tuple[Instansi, str]  # the acting instansi, and the role a taken-over task gets
Summary = dict[str, Any]
Note = tuple[str, str | None]  # the action, and its reason
Change = Callable[[Report, HumanTask, Actor], tuple[HumanTask, Summary]]


def _clean(value: str | None, field: str, *, required: bool = True) -> str:
    text = value.strip() if value else ""
    if len(text) > MAX_TEXT or (required and not text):
        raise InvalidInput(f"{field}: 1 to {MAX_TEXT} characters are required", field=field)
    check_storable(text, field)
    return text


def _upwards(session: Session, instansi_id: int | None) -> list[Instansi]:
    """The instansi and its supervisors up the tree, itself first."""
    chain: list[Instansi] = []
    current = session.get(Instansi, instansi_id) if instansi_id else None
    while current is not None and current not in chain:
        chain.append(current)
        current = current.supervisor
    return chain


def _acting(session: Session, principal: Principal, found: Sequence[Escalation]) -> Actor | None:
    """The principal's instansi nearest above (or at) one of the escalations' targets."""
    mine = {  # a supervisor membership wins over an admin_instansi one at the same instansi
        m.instansi_id: m.role
        for m in sorted(principal.memberships, key=lambda m: m.role == "supervisor")
        if m.role in ACTING_ROLES and m.instansi_id and m.unit_id is None
    }
    for esc in found:
        for instansi in _upwards(session, esc.to_instansi_id):
            if instansi.id in mine:
                return instansi, mine[instansi.id]
    return None


def _visible(session: Session, principal: Principal, tracking: str) -> tuple[Report, list[Any]]:
    """The report and its escalations; 404 unless the principal may supervise it."""
    report = None
    if is_tracking_id(tracking):
        report = session.scalar(select(Report).where(Report.tracking_id == tracking))
    stmt = select(Escalation).where(Escalation.report_id == (report.id if report else None))
    found = list(session.scalars(stmt.order_by(Escalation.id)))
    if report is None or not (NATIONAL in principal.roles() or _acting(session, principal, found)):
        raise NotFound("no report with this tracking id", field="tracking_id")
    return report, found


def _open_task(session: Session, report: Report, *, lock: bool = False) -> HumanTask | None:
    stmt = select(HumanTask).where(HumanTask.report_id == report.id, HumanTask.status == "open")
    stmt = stmt.order_by(HumanTask.id.desc()).limit(1)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def _act(
    session: Session, principal: Principal, tracking_id: str, note: Note, change: Change
) -> Summary:
    """One transaction: the open task, who acts, `change`, the audit event and timeline note."""
    try:
        with session.begin():
            report, found = _visible(session, principal, tracking_id)
            task = _open_task(session, report, lock=True)
            if task is None:
                raise Conflict(
                    "the report has no open task to act on",
                    field="tracking_id",
                    code="no_open_task",
                )
            actor = _acting(session, principal, [e for e in found if e.task_id == task.id])
            if actor is None and NATIONAL in principal.roles():
                actor = deadlines.national_instansi(session), NATIONAL
            if actor is None:
                raise Conflict(
                    "the open task was not escalated to you",
                    field="tracking_id",
                    code="not_escalated",
                )
            # a new instance version, so a task completion racing this action gets 409
            session.get_one(ProcessInstance, task.instance_id).updated_at = clock.now()
            after, details = change(report, task, actor)
            action, reason = note
            data = {"action": action, "instansi": actor[0].code, "reason": reason, **details}
            add_timeline(session, report, "supervision", public=False, text=reason, data=data)
            audit.record(
                session,
                actor=principal.actor,
                action=f"supervision.{action}",
                report_id=report.id,
                instance_id=task.instance_id,
                task_id=task.id,
                data={k: v for k, v in data.items() if k != "reason"},  # typed text: timeline only
            )
            return {"action": action, "tracking_id": tracking_id, "task": after, **details}
    except StaleDataError as exc:
        raise Conflict(
            "the report changed meanwhile; reload", field="tracking_id", code="changed_meanwhile"
        ) from exc


def next_level(session: Session, task: HumanTask) -> int:
    """One above the highest level of the task's current escalation chain already reached."""
    chain = escalation.escalation_chain(session, task)
    stmt = select(Escalation.to_instansi_id).where(Escalation.task_id == task.id)
    reached = set(session.scalars(stmt))
    done = [i for i, instansi in enumerate(chain) if instansi.id in reached]
    return min(max(done) + 2 if done else 1, len(chain))


def get(session: Session, *, principal: Principal, tracking_id: str) -> Summary:
    """The report's escalations, oldest first, and its open task."""
    with session.begin():
        report, found = _visible(session, principal, tracking_id)
        rows = [
            {"level": e.level, "reason": e.reason, "task_id": e.task_id, "at": e.created_at}
            | {"to_instansi": session.get(Instansi, e.to_instansi_id)}
            for e in found
        ]
        task = _open_task(session, report)
        return {"tracking_id": tracking_id, "open_task": task, "escalations": rows}


def remind(
    session: Session, *, principal: Principal, tracking_id: str, message: str | None = None
) -> Summary:
    """Alert and email whoever holds the open task (else everyone it is offered to)."""
    message = _clean(message, "message", required=False) or None

    def change(report: Report, task: HumanTask, actor: Actor) -> tuple[HumanTask, Summary]:
        holder = session.get(User, task.assignee_id) if task.assignee_id else None
        users = [holder] if holder is not None else escalation.offered_to(session, task)
        if not users:
            raise Conflict(
                "nobody holds this task: reassign or take it over",
                field="tracking_id",
                code="nobody_holds",
            )
        name, due = actor[0].name, f"{task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else "-"
        title = f"Pengingat dari {name}: laporan {report.tracking_id}"
        body = (
            f"Tugas '{task.name}' pada laporan {report.tracking_id} ('{report.title}') telah "
            f"dieskalasi dan menunggu tindakan Anda (batas waktu {due})."
        ) + (f"\n\nPesan dari {name}:\n{message}" if message else "")
        for user in users:
            alert_user(
                session,
                user=user,
                report=report,
                kind="supervision_reminder",
                title=title,
                body=body,
            )
        return task, {"reminded": len(users)}

    return _act(session, principal, tracking_id, ("remind", message), change)


def set_deadline(
    session: Session,
    *,
    principal: Principal,
    tracking_id: str,
    reason: str,
    working_days: int | None = None,
    due_at: datetime | None = None,
) -> Summary:
    """Due `working_days` from now (responsible instansi's calendar) or at `due_at`; a lapse
    then escalates one level higher than reached so far."""
    reason, field = _clean(reason, "reason"), "working_days" if due_at is None else "due_at"
    if (working_days is None) == (due_at is None) or (due_at and due_at.utcoffset() is None):
        raise InvalidInput("give working_days, or due_at with its UTC offset", field=field)

    def change(report: Report, task: HumanTask, _actor: Actor) -> tuple[HumanTask, Summary]:
        now, previous = clock.now(), task.due_at
        cal = calendar_for(session, deadlines.responsible_instansi(session, task))
        due = due_at or cal.add_working_days(now, max(working_days or 0, 0)).due_at
        if not now < due <= cal.add_working_days(now, MAX_WORKING_DAYS).due_at:
            ahead = f"in the future, {MAX_WORKING_DAYS} working days ahead at most"
            raise InvalidInput(f"the new deadline must be {ahead}", field=field)
        level, due = next_level(session, task), due.astimezone(UTC)
        every = deadlines.task_policy(session, task, report).escalation_every
        deadlines.cancel(session, report_id=report.id, task_id=task.id)
        deadlines.schedule(
            session,
            kind="due",
            report_id=report.id,
            task_id=task.id,
            due_at=due,
            level=level,
            payload={"escalation_every": every},
        )
        task.due_at, was = due, previous.isoformat() if previous else None
        return task, {"due_at": due.isoformat(), "previous_due_at": was, "level": level}

    return _act(session, principal, tracking_id, ("deadline", reason), change)


def reassign(
    session: Session,
    *,
    principal: Principal,
    tracking_id: str,
    reason: str,
    unit: str | None = None,
    instansi: str | None = None,
) -> Summary:
    """Move the open task to another unit of its instansi (unit tasks; due date kept) or the
    report to another instansi, whose SOP starts afresh; nobody holds the task afterwards."""
    reason = _clean(reason, "reason")
    if (unit is None) == (instansi is None):
        raise InvalidInput("give exactly one of unit and instansi", field="unit")

    def change(report: Report, task: HumanTask, actor: Actor) -> tuple[HumanTask, Summary]:
        if instansi is not None:
            return _reroute(session, report, task, actor, instansi)
        if task.role not in driver.UNIT_ROLES:
            raise Conflict("only a unit's task can move to another unit", field="unit")
        new = resolve_unit(session, task.instansi_id, unit, "unit")
        old = session.get(Unit, task.unit_id) if task.unit_id else None
        task.unit_id, task.assignee_id, task.claimed_at = new.id, None, None
        report.current_unit_id = new.id
        return task, {"from_unit": old.code if old else None, "to_unit": new.code}

    return _act(session, principal, tracking_id, ("reassign", reason), change)


def _reroute(
    session: Session, report: Report, task: HumanTask, actor: Actor, code: str
) -> tuple[HumanTask, Summary]:
    """Cancel the SOP instance holding `task`; the waiting intake starts the new one's SOP."""
    target = resolve_instansi(session, code, "instansi")
    if actor[1] != NATIONAL and actor[0] not in _upwards(session, target.id):
        raise Forbidden("that instansi is outside your supervision", field="instansi")
    sop = session.get(ProcessInstance, task.instance_id)
    if sop is None:
        raise Conflict("the report is not with an instansi's SOP", field="instansi")
    if target.id == sop.instansi_id:
        raise InvalidInput("the report is already with this instansi", field="instansi")
    old = session.get(Instansi, sop.instansi_id or 0)
    intake_wf = driver.reroute(session, report=report, sop=sop, target=target)
    where = {"instansi": target.code, "instansi_name": target.name}
    add_timeline(session, report, "forwarded", new_status=status.FORWARDED, data=where)
    intake = session.get(ProcessInstance, sop.parent_id)
    assert intake is not None
    driver.settle(session, report=report, instance=intake, wf=intake_wf)  # starts the new SOP
    moved = {"from_instansi": old.code if old else None, "to_instansi": target.code}
    return _open_task(session, report) or task, moved


def take_over(session: Session, *, principal: Principal, tracking_id: str, reason: str) -> Summary:
    """The acting instansi and user hold the open task; escalation goes on above them."""
    reason = _clean(reason, "reason")

    def change(report: Report, task: HumanTask, actor: Actor) -> tuple[HumanTask, Summary]:
        role, instansi_id = actor[1], None if actor[1] == NATIONAL else actor[0].id
        if task.assignee_id == principal.user_id and task.role == role:
            raise Conflict("you already hold this task", field="tracking_id", code="already_held")
        task.role, task.instansi_id, task.unit_id = role, instansi_id, None
        task.assignee_id, task.claimed_at = principal.user_id, clock.now()
        level = next_level(session, task)
        pending = (Deadline.task_id == task.id) & (Deadline.status == deadlines.PENDING)
        session.execute(update(Deadline).where(pending).values(level=level))
        return task, {"role": role, "level": level}

    return _act(session, principal, tracking_id, ("take_over", reason), change)
