"""What officers see of service levels: each task's SLA state and working time left, their
task inbox filtered by that state in SQL, and their alert inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db import valid_id
from engine.errors import InvalidInput, NotFound
from engine.models import HumanTask, Instansi
from engine.services import officer_notes, tasks
from engine.services.auth import Principal
from sla import deadlines
from sla.calendar import MAX_SCAN_DAYS, WorkingCalendar
from sla.calendar_service import calendar_for
from sla.models import Alert, Escalation

ON_TIME, DUE_SOON, OVERDUE, ESCALATED = "on_time", "due_soon", "overdue", "escalated"
STATES = (ON_TIME, DUE_SOON, OVERDUE, ESCALATED)
DUE_SOON_WORKING_DAYS = 1.0
MICROSECOND = timedelta(microseconds=1)
LOOKAHEAD = timedelta(days=MAX_SCAN_DAYS)


@dataclass(frozen=True)
class TaskSla:
    state: str | None
    working_days_left: float | None


def _left(cal: WorkingCalendar, now: datetime, due: datetime) -> float:
    """Working days from `now` to `due` as officers see them (2 decimals)."""
    return round(cal.working_days_left(now, due), 2)


def task_sla(session: Session, tasks: list[HumanTask]) -> dict[int, TaskSla]:
    """SLA state and working days left (negative when overdue) for each task."""
    with session.begin():
        now = clock.now()
        ids = [t.id for t in tasks]
        escalated = (
            set(session.scalars(select(Escalation.task_id).where(Escalation.task_id.in_(ids))))
            if ids
            else set()
        )
        calendars: dict[int | None, WorkingCalendar] = {}
        result: dict[int, TaskSla] = {}
        for task in tasks:
            if task.due_at is None or task.status != "open":
                result[task.id] = TaskSla(None, None)
                continue
            if task.instansi_id not in calendars:
                calendars[task.instansi_id] = calendar_for(
                    session, deadlines.responsible_instansi(session, task)
                )
            left = _left(calendars[task.instansi_id], now, task.due_at)
            if task.id in escalated:
                state = ESCALATED
            elif now > task.due_at:
                state = OVERDUE
            elif left <= DUE_SOON_WORKING_DAYS:
                state = DUE_SOON
            else:
                state = ON_TIME
            result[task.id] = TaskSla(state, left)
    return result


def due_soon_until(cal: WorkingCalendar, now: datetime) -> datetime:
    """The last moment (to the microsecond) at which a task due then is still `due_soon` at
    `now`: working days left, counted as `task_sla` counts them, grow with the due time, so
    bisection over that same count finds the boundary exactly (a weekend or holiday after it
    adds no working time, so the boundary runs to its end)."""
    low, step = now, timedelta(days=1)
    high = now + step
    while _left(cal, now, high) <= DUE_SOON_WORKING_DAYS:
        if step > LOOKAHEAD:  # a calendar without working days: everything is due soon
            return high
        low, step = high, step * 2
        high = now + step
    while high - low > MICROSECOND:
        middle = low + (high - low) / 2
        if _left(cal, now, middle) <= DUE_SOON_WORKING_DAYS:
            low = middle
        else:
            high = middle
    return low


def _calendar_of(session: Session, instansi_id: int | None) -> WorkingCalendar:
    found = session.get(Instansi, instansi_id) if instansi_id is not None else None
    return calendar_for(session, found or deadlines.national_instansi(session))


def state_clause(session: Session, *, principal: Principal, state: str, now: datetime) -> Any:
    """The SQL condition on an open `HumanTask` that `task_sla` gives it `state` at `now`.

    Escalated and overdue need no calendar. Due soon and on time part at `due_soon_until` of
    the calendar of each instansi that has open, not yet due tasks visible to `principal`."""
    if state not in STATES:
        raise InvalidInput(f"state is one of {', '.join(STATES)}", field="state")
    escalated = exists().where(Escalation.task_id == HumanTask.id)
    if state == ESCALATED:
        return escalated
    if state == OVERDUE:
        return and_(~escalated, HumanTask.due_at < now)
    pending = and_(~escalated, HumanTask.due_at >= now)
    instansi_ids = session.scalars(
        select(HumanTask.instansi_id)
        .distinct()
        .where(HumanTask.status == "open", tasks.visible_clause(principal), pending)
    ).all()
    parts = []
    for instansi_id in instansi_ids:
        until = due_soon_until(_calendar_of(session, instansi_id), now)
        same = (
            HumanTask.instansi_id.is_(None)
            if instansi_id is None
            else HumanTask.instansi_id == instansi_id
        )
        parts.append(
            and_(same, HumanTask.due_at <= until if state == DUE_SOON else HumanTask.due_at > until)
        )
    return and_(pending, or_(*parts)) if parts else false()


@dataclass(frozen=True)
class InboxPage:
    rows: list[tuple[officer_notes.InboxRow, TaskSla]]
    total: int  # over all pages


def inbox(
    session: Session,
    *,
    principal: Principal,
    state: str | None = None,
    milestone: str | None = None,
    who: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> InboxPage:
    """One page of the officer's open tasks, soonest due first, with report labels and SLA:
    the SLA state, milestone and `who` (`tasks.WHO`) filters and the paging all run in SQL."""
    where: Sequence[Any] = ()
    if state is not None:
        with session.begin():
            where = (state_clause(session, principal=principal, state=state, now=clock.now()),)
    filters: dict[str, Any] = {"milestone": milestone, "who": who, "where": where}
    rows = officer_notes.inbox(session, principal=principal, limit=limit, offset=offset, **filters)
    total = tasks.count_for(session, principal=principal, **filters)
    slas = task_sla(session, [r.task for r in rows])
    return InboxPage([(r, slas[r.task.id]) for r in rows], total)


def list_alerts(
    session: Session, *, principal: Principal, unread_only: bool = False, limit: int = 50
) -> tuple[list[Alert], int]:
    """The principal's alerts, newest first, and their unread count."""
    with session.begin():
        stmt = select(Alert).where(Alert.user_id == principal.user_id)
        if unread_only:
            stmt = stmt.where(Alert.read_at.is_(None))
        alerts = list(session.scalars(stmt.order_by(Alert.id.desc()).limit(limit)))
        unread = (
            session.scalar(
                select(func.count())
                .select_from(Alert)
                .where(Alert.user_id == principal.user_id, Alert.read_at.is_(None))
            )
            or 0
        )
        session.expunge_all()
    return alerts, unread


def mark_read(session: Session, *, principal: Principal, alert_id: int) -> Alert:
    with session.begin():
        alert = session.get(Alert, alert_id) if valid_id(alert_id) else None
        if alert is None or alert.user_id != principal.user_id:
            raise NotFound("no such alert", field="alert_id")
        if alert.read_at is None:
            alert.read_at = clock.now()
    return alert
