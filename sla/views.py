"""What officers see of service levels: each task's SLA state and working time left, and
their alert inbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db import valid_id
from engine.errors import NotFound
from engine.models import HumanTask
from engine.services.auth import Principal
from sla import deadlines
from sla.calendar import WorkingCalendar
from sla.calendar_service import calendar_for
from sla.models import Alert, Escalation

ON_TIME, DUE_SOON, OVERDUE, ESCALATED = "on_time", "due_soon", "overdue", "escalated"
DUE_SOON_WORKING_DAYS = 1.0


@dataclass(frozen=True)
class TaskSla:
    state: str | None
    working_days_left: float | None


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
            left = round(calendars[task.instansi_id].working_days_left(now, task.due_at), 2)
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
