"""What a supervisor reads of the tree they supervise: overdue and escalated tasks, one report's
summary with its timeline and escalations, the targets a report may be reassigned to, and the
unread count of their alert inbox.

The supervised tree of a `supervisor` or `admin_instansi` is each instansi they hold that role
for (not a unit's role) and every instansi below it, found by one recursive query over the
indexed `instansi.supervisor_id`; national admins see every instansi. Lists are filtered and
paginated in SQL, never by loading every task. Reads return plain dataclasses: an anonymous
pelapor's identity is not in them at all. Interventions themselves are in `sla.interventions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from engine import clock
from engine.errors import NotFound
from engine.models import HumanTask, Instansi, Report, TimelineEntry, Unit, User
from engine.services.auth import Principal
from engine.services.reports import is_tracking_id
from sla import deadlines
from sla.calendar import WorkingCalendar
from sla.calendar_service import calendar_for
from sla.models import Alert, Escalation

NATIONAL = "admin_nasional"
SUPERVISING_ROLES = frozenset({"supervisor", "admin_instansi", NATIONAL})
PER_PAGE = 25
MAX_PAGE = 1000
MAX_CHOICES = 500  # instansi offered as reassignment targets
MAX_TIMELINE = 200
MAX_FILTER = 100
ESCALATED, OVERDUE = "escalated", "overdue"


@dataclass(frozen=True)
class OverdueRow:
    tracking_id: str
    title: str
    task_name: str
    milestone: str | None
    due_at: datetime | None
    working_days_late: float | None
    level: int | None  # the highest escalation level reached; None: not escalated yet
    instansi_code: str | None  # the responsible instansi (None: the national admins)
    instansi_name: str | None
    unit_name: str | None


@dataclass(frozen=True)
class OverduePage:
    rows: list[OverdueRow]
    page: int
    has_next: bool


@dataclass(frozen=True)
class Choice:
    code: str
    name: str


@dataclass(frozen=True)
class EscalationRow:
    level: int
    reason: str
    at: datetime
    to_code: str
    to_name: str


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    public: bool
    text: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class OpenTask:
    name: str
    milestone: str | None
    role: str
    due_at: datetime | None
    working_days_left: float | None
    instansi_name: str | None
    unit_name: str | None
    assignee: str | None


@dataclass(frozen=True)
class SupervisedReport:
    tracking_id: str
    title: str
    body: str
    classification: str
    category: str
    status: str
    region_code: str
    created_at: datetime
    anonim: bool
    rahasia: bool
    pelapor_name: str | None  # never set for an anonymous report
    current_instansi: str | None
    open_task: OpenTask | None
    escalations: list[EscalationRow]
    timeline: list[TimelineRow]
    can_act: bool = False  # the open task was escalated into the tree (national: any)
    units: list[Choice] = field(default_factory=list)  # reassignment targets
    instansi: list[Choice] = field(default_factory=list)


def supervises(principal: Principal) -> bool:
    return bool(SUPERVISING_ROLES & principal.roles())


def _roots(principal: Principal) -> set[int] | None:
    """The instansi the principal supervises at the top of their tree; None: all (national)."""
    if NATIONAL in principal.roles():
        return None
    return {
        m.instansi_id
        for m in principal.memberships
        if m.role in SUPERVISING_ROLES and m.instansi_id is not None and m.unit_id is None
    }


def _tree(roots: set[int]) -> Select[tuple[int]]:
    """The ids of `roots` and every instansi below them (UNION also stops at a cycle)."""
    top = select(Instansi.id.label("id")).where(Instansi.id.in_(roots)).cte("tree", recursive=True)
    below = select(Instansi.id).where(Instansi.supervisor_id == top.c.id)
    tree = top.union(below)
    return select(tree.c.id)


def _in_tree(principal: Principal, column: Any) -> Any:
    roots = _roots(principal)
    if roots is None:
        return True
    return column.in_(_tree(roots)) if roots else False


def _late(
    session: Session, calendars: dict[int | None, WorkingCalendar], task: HumanTask, now: datetime
) -> float | None:
    if task.due_at is None:
        return None
    if task.instansi_id not in calendars:
        calendars[task.instansi_id] = calendar_for(
            session, deadlines.responsible_instansi(session, task)
        )
    return round(calendars[task.instansi_id].working_days_left(now, task.due_at), 2)


def list_overdue(
    session: Session,
    *,
    principal: Principal,
    instansi: str | None = None,
    level: int | None = None,
    state: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> OverduePage:
    """Open tasks of the supervised tree that are overdue or were escalated, latest due first.

    `instansi` matches the responsible instansi's code exactly or part of its name; `level` the
    highest escalation level; `state` is `overdue` (not escalated yet) or `escalated`.
    """
    page = min(max(page, 1), MAX_PAGE)
    with session.begin():
        now = clock.now()
        escalated = exists().where(Escalation.task_id == HumanTask.id)
        top_level = (
            select(func.max(Escalation.level))
            .where(Escalation.task_id == HumanTask.id)
            .scalar_subquery()
        )
        stmt = (
            select(HumanTask, Report.tracking_id, Report.title, Instansi, Unit.name, top_level)
            .join(Report, Report.id == HumanTask.report_id)
            .outerjoin(Instansi, Instansi.id == HumanTask.instansi_id)
            .outerjoin(Unit, Unit.id == HumanTask.unit_id)
            .where(HumanTask.status == "open", or_(HumanTask.due_at < now, escalated))
        )
        roots = _roots(principal)
        if roots is not None:
            stmt = stmt.where(_in_tree(principal, HumanTask.instansi_id))
        if instansi:
            text = instansi.strip()[:MAX_FILTER]
            stmt = stmt.where(
                or_(
                    Instansi.code == text,
                    func.lower(Instansi.name).contains(text.lower(), autoescape=True),
                )
            )
        if level is not None:
            stmt = stmt.where(top_level == level)
        if state == ESCALATED:
            stmt = stmt.where(escalated)
        elif state == OVERDUE:
            stmt = stmt.where(~escalated)
        stmt = stmt.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
        found = session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).all()
        calendars: dict[int | None, WorkingCalendar] = {}
        rows = []
        for task, tracking, title, owner, unit_name, reached in found[:per_page]:
            left = _late(session, calendars, task, now)
            rows.append(
                OverdueRow(
                    tracking_id=tracking,
                    title=title,
                    task_name=task.name,
                    milestone=task.milestone,
                    due_at=task.due_at,
                    working_days_late=-left if left is not None and left < 0 else None,
                    level=reached,
                    instansi_code=owner.code if owner else None,
                    instansi_name=owner.name if owner else None,
                    unit_name=unit_name,
                )
            )
    return OverduePage(rows=rows, page=page, has_next=len(found) > per_page)


def _may_see(session: Session, principal: Principal, report: Report) -> bool:
    """National admins; or an escalation of the report reached the tree; or one of its open
    tasks in the tree is overdue (as in `list_overdue`)."""
    if NATIONAL in principal.roles():
        return True
    roots = _roots(principal)
    if not roots:
        return False
    tree = _tree(roots)  # one CTE, used by both tests
    reached = select(Escalation.id).where(
        Escalation.report_id == report.id, Escalation.to_instansi_id.in_(tree)
    )
    late = select(HumanTask.id).where(
        HumanTask.report_id == report.id,
        HumanTask.status == "open",
        HumanTask.due_at < clock.now(),
        HumanTask.instansi_id.in_(tree),
    )
    return bool(session.scalar(select(exists(reached) | exists(late))))


def _may_act(session: Session, principal: Principal, task: HumanTask) -> bool:
    """As `sla.interventions` decides: national admins, or an escalation of this very task
    reached the tree (its target is the principal's instansi or one below it)."""
    if NATIONAL in principal.roles():
        return True
    roots = _roots(principal)
    if not roots:
        return False
    reached = select(Escalation.id).where(
        Escalation.task_id == task.id, Escalation.to_instansi_id.in_(_tree(roots))
    )
    return bool(session.scalar(select(exists(reached))))


def _choices(
    session: Session, principal: Principal, task: HumanTask | None, current: int | None
) -> tuple[list[Choice], list[Choice]]:
    """Units of the open task's instansi (for a unit's task) and the instansi the report may
    move to: the principal's tree, or for national admins the tree above the current one."""
    units: list[Choice] = []
    if task is not None and task.unit_id is not None:  # a unit's task (driver.UNIT_ROLES)
        found = session.execute(
            select(Unit.code, Unit.name)
            .where(Unit.instansi_id == task.instansi_id, Unit.id != (task.unit_id or 0))
            .order_by(Unit.name)
        ).all()
        units = [Choice(code, name) for code, name in found]
    roots = _roots(principal)
    if roots is None:
        owner = session.get(Instansi, current) if current else None
        top = owner.supervisor_id if owner and owner.supervisor_id else current
        roots = {top} if top else set()
    if task is None or not roots:
        return units, []
    found = session.execute(
        select(Instansi.code, Instansi.name)
        .where(
            Instansi.id.in_(_tree(roots)),
            Instansi.active.is_(True),
            Instansi.id != (current or 0),
        )
        .order_by(Instansi.name)
        .limit(MAX_CHOICES)
    ).all()
    return units, [Choice(code, name) for code, name in found]


def report_view(session: Session, *, principal: Principal, tracking_id: str) -> SupervisedReport:
    """One report as its supervisor sees it; NotFound (as for a missing report) otherwise."""
    with session.begin():
        report = None
        if is_tracking_id(tracking_id):
            report = session.scalar(select(Report).where(Report.tracking_id == tracking_id))
        if report is None or not _may_see(session, principal, report):
            raise NotFound("no report with this tracking id", field="tracking_id")
        target = aliased(Instansi)
        escalations = [
            EscalationRow(e.level, e.reason, e.created_at, code, name)
            for e, code, name in session.execute(
                select(Escalation, target.code, target.name)
                .join(target, target.id == Escalation.to_instansi_id)
                .where(Escalation.report_id == report.id)
                .order_by(Escalation.id)
            )
        ]
        timeline = [
            TimelineRow(t.at, t.kind, t.public, t.text, dict(t.data or {}))
            for t in session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.report_id == report.id)
                .order_by(TimelineEntry.id)
                .limit(MAX_TIMELINE)
            )
        ]
        task = session.scalar(
            select(HumanTask)
            .where(HumanTask.report_id == report.id, HumanTask.status == "open")
            .order_by(HumanTask.id.desc())
            .limit(1)
        )
        open_task = None
        if task is not None:
            owner = session.get(Instansi, task.instansi_id) if task.instansi_id else None
            unit = session.get(Unit, task.unit_id) if task.unit_id else None
            holder = session.get(User, task.assignee_id) if task.assignee_id else None
            open_task = OpenTask(
                name=task.name,
                milestone=task.milestone,
                role=task.role,
                due_at=task.due_at,
                working_days_left=_late(session, {}, task, clock.now()),
                instansi_name=owner.name if owner else None,
                unit_name=unit.name if unit else None,
                assignee=holder.full_name if holder else None,
            )
        current = session.get(Instansi, report.current_instansi_id or 0)
        can_act = task is not None and _may_act(session, principal, task)
        units, instansi = _choices(session, principal, task, report.current_instansi_id)
        return SupervisedReport(
            tracking_id=report.tracking_id,
            title=report.title,
            body=report.body,
            classification=report.classification,
            category=report.category,
            status=report.status,
            region_code=report.region_code,
            created_at=report.created_at,
            anonim=report.anonim,
            rahasia=report.rahasia,
            pelapor_name=None if report.anonim else report.pelapor_name,
            current_instansi=current.name if current else None,
            open_task=open_task,
            escalations=escalations,
            timeline=timeline,
            can_act=can_act,
            units=units,
            instansi=instansi,
        )


def unread_count(session: Session, *, principal: Principal) -> int:
    """How many of the principal's alerts are unread (the header badge); one indexed count."""
    with session.begin():
        return int(
            session.scalar(
                select(func.count())
                .select_from(Alert)
                .where(Alert.user_id == principal.user_id, Alert.read_at.is_(None))
            )
            or 0
        )


def mark_all_read(session: Session, *, principal: Principal) -> int:
    """Mark every unread alert of the principal read; returns how many."""
    with session.begin():
        result = session.execute(
            update(Alert)
            .where(and_(Alert.user_id == principal.user_id, Alert.read_at.is_(None)))
            .values(read_at=clock.now())
        )
        return int(getattr(result, "rowcount", 0) or 0)


def tracking_ids(session: Session, *, report_ids: set[int]) -> dict[int, str]:
    """The tracking ids of the given reports (to link alerts to their reports)."""
    if not report_ids:
        return {}
    with session.begin():
        found = session.execute(
            select(Report.id, Report.tracking_id).where(Report.id.in_(report_ids))
        ).all()
        return {report_id: tracking for report_id, tracking in found}
