"""Officers' human tasks: list what I may work on, claim, and complete with the task's form.

Two scopes: the tasks a principal may act on (`visible_clause`: assigned to them, or offered to
one of their roles there) and the tasks they may read (`readable_clause`): national admins read
every instansi's tasks (`list_for(scope="all")`, `read`) but act on them only through
supervision, so claiming or completing another instansi's task stays 404 for them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, events
from engine.db import valid_id
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, Report
from engine.runtime import TaskNotReady
from engine.services import audit, driver, progress
from engine.services.auth import Principal
from engine.text import check_storable


def _eligible_clause(principal: Principal) -> Any:
    clauses = []
    for m in principal.memberships:
        if m.role == "admin_nasional":
            clauses.append(HumanTask.role == "admin_nasional")
        elif m.instansi_id is not None:
            scope = [HumanTask.role == m.role, HumanTask.instansi_id == m.instansi_id]
            if m.unit_id is not None:
                scope.append(HumanTask.unit_id == m.unit_id)
            clauses.append(and_(*scope))
    return or_(*clauses) if clauses else HumanTask.id.is_(None)


def visible_clause(principal: Principal) -> Any:
    """Tasks the principal may see: assigned to them, or open to one of their roles there."""
    return or_(HumanTask.assignee_id == principal.user_id, _eligible_clause(principal))


def reads_everything(principal: Principal) -> bool:
    """National admins read every instansi's tasks (not act on them)."""
    return "admin_nasional" in principal.roles()


def readable_clause(principal: Principal) -> Any:
    """Tasks the principal may read: those they may act on; national admins every task."""
    return true() if reads_everything(principal) else visible_clause(principal)


WHO = ("mine", "unclaimed")
SCOPES = ("work", "all")  # the tasks I may act on; every task I may read (national admins)


def _listing(
    principal: Principal,
    *,
    milestone: str | None,
    who: str | None,
    ids: Sequence[int] | None,
    where: Sequence[Any],
    scope: str = "work",
) -> list[Any]:
    """The WHERE conditions of a task list: open, in the scope, and the filters given."""
    if scope == "all":
        if not reads_everything(principal):
            raise Forbidden("only national admins list every instansi's tasks", field="scope")
        seen = readable_clause(principal)
    elif scope == "work":
        seen = visible_clause(principal)
    else:
        raise InvalidInput(f"scope is one of {', '.join(SCOPES)}", field="scope")
    conditions = [HumanTask.status == "open", seen, *where]
    if ids is not None:
        conditions.append(HumanTask.id.in_([i for i in ids if valid_id(i)]))
    if milestone is not None:
        conditions.append(HumanTask.milestone == milestone)
    if who == "mine":
        conditions.append(HumanTask.assignee_id == principal.user_id)
    elif who == "unclaimed":
        conditions.append(HumanTask.assignee_id.is_(None))
    elif who is not None:
        raise InvalidInput(f"who is one of {', '.join(WHO)}", field="who")
    return conditions


def list_for(
    session: Session,
    *,
    principal: Principal,
    milestone: str | None = None,
    who: str | None = None,
    ids: Sequence[int] | None = None,
    where: Sequence[Any] = (),
    limit: int = 100,
    offset: int = 0,
    scope: str = "work",
) -> list[HumanTask]:
    """My tasks and the open tasks of my roles' instansi/units, soonest due first (no due time
    last), filtered and paged in SQL: by milestone, by `who` (`mine`: claimed by me,
    `unclaimed`), to the tasks `ids`, and by extra conditions on `HumanTask` that other
    packages define (`where`, e.g. an SLA state). `scope="all"`: every instansi's open tasks,
    for national admins to read (Forbidden for anyone else)."""
    conditions = _listing(
        principal, milestone=milestone, who=who, ids=ids, where=where, scope=scope
    )
    with session.begin():
        rows = session.scalars(
            select(HumanTask)
            .where(*conditions)
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
            .limit(limit)
            .offset(offset)
        ).all()
        session.expunge_all()
    return list(rows)


def count_for(
    session: Session,
    *,
    principal: Principal,
    milestone: str | None = None,
    who: str | None = None,
    ids: Sequence[int] | None = None,
    where: Sequence[Any] = (),
) -> int:
    """How many tasks `list_for` with the same filters finds over all its pages."""
    with session.begin():
        conditions = _listing(principal, milestone=milestone, who=who, ids=ids, where=where)
        return int(session.scalar(select(func.count(HumanTask.id)).where(*conditions)) or 0)


def _get_visible(
    session: Session, principal: Principal, task_id: int, *, lock: bool = False
) -> HumanTask:
    if not valid_id(task_id):
        raise NotFound("no such task", field="task_id")
    stmt = select(HumanTask).where(HumanTask.id == task_id, visible_clause(principal))
    task = session.scalar(stmt.with_for_update() if lock else stmt)
    if task is None:  # another instansi's task looks exactly like a missing one
        raise NotFound("no such task", field="task_id")
    return task


@dataclass(frozen=True)
class TaskView:
    task: HumanTask
    report: Report
    form_schema: dict[str, Any] | None


def form_for(task: HumanTask, definition: ProcessDefinition) -> dict | None:
    """The task's JSON Schema form (the deploy linter requires one on every user task)."""
    meta = definition.task_meta.get(task.bpmn_id) or {}
    return dict(meta["form_schema"]) if meta.get("form_schema") else None


def get(session: Session, *, principal: Principal, task_id: int) -> TaskView:
    """A task the principal may act on, with its report and form (else NotFound)."""
    with session.begin():
        return _view_of(session, _get_visible(session, principal, task_id))


def read(session: Session, *, principal: Principal, task_id: int) -> TaskView:
    """A task the principal may read (`readable_clause`), with its report and form: national
    admins any task; anyone else as `get`. Another instansi's task is NotFound, like a missing
    one."""
    with session.begin():
        task = None
        if valid_id(task_id):
            stmt = select(HumanTask).where(HumanTask.id == task_id, readable_clause(principal))
            task = session.scalar(stmt)
        if task is None:
            raise NotFound("no such task", field="task_id")
        return _view_of(session, task)


def _view_of(session: Session, task: HumanTask) -> TaskView:
    """The task's view, detached from the session (called inside its transaction)."""
    instance = session.get(ProcessInstance, task.instance_id)
    report = session.get(Report, task.report_id)
    assert instance is not None and report is not None
    view = TaskView(task, report, form_for(task, instance.definition))
    session.expunge_all()
    return view


def claim(session: Session, *, principal: Principal, task_id: int) -> HumanTask:
    with session.begin():
        task = _get_visible(session, principal, task_id, lock=True)
        if task.status != "open":
            raise Conflict("the task is no longer open", field="task_id")
        if task.assignee_id not in (None, principal.user_id):
            raise Conflict("the task is claimed by another officer", field="task_id")
        task.assignee_id = principal.user_id
        task.claimed_at = clock.now()
        audit.record(
            session,
            actor=principal.actor,
            action="task.claimed",
            report_id=task.report_id,
            instance_id=task.instance_id,
            task_id=task.id,
        )
    return task


def _validate_form(schema: dict[str, Any] | None, data: dict[str, Any]) -> None:
    check_storable(data)
    if not schema:
        return
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        field = ".".join(str(p) for p in first.path) or None
        if first.validator == "required" and isinstance(first.validator_value, list):
            missing = [f for f in first.validator_value if f not in (first.instance or {})]
            field = missing[0] if missing else field
        elif first.validator == "additionalProperties":
            extra = sorted(set(first.instance) - set(schema.get("properties", {})))
            field = extra[0] if extra else field
        raise InvalidInput(f"form data rejected: {first.message}", field=field)


def complete(
    session: Session, *, principal: Principal, task_id: int, data: dict[str, Any]
) -> HumanTask:
    """Complete a task: load, run, save, sync tasks, audit; one transaction, 409 on a race."""
    try:
        with session.begin():
            task = _get_visible(session, principal, task_id)
            if task.status != "open":
                raise Conflict("the task is already completed", field="task_id")
            if task.assignee_id not in (None, principal.user_id):
                raise Conflict("the task is claimed by another officer", field="task_id")
            instance = session.get(ProcessInstance, task.instance_id)
            report = session.get(Report, task.report_id)
            assert instance is not None and report is not None
            _validate_form(form_for(task, instance.definition), data)
            progress.check_references(session, report, task.milestone, data)
            wf = driver.load_workflow(session, instance)
            try:
                wf.complete_task(task.task_guid, data)
            except TaskNotReady as exc:
                raise Conflict("the task is no longer waiting", field="task_id") from exc
            now = clock.now()
            task.status = "completed"
            task.completed_at = now
            task.completed_by_id = principal.user_id
            task.assignee_id = task.assignee_id or principal.user_id
            events.publish(
                session,
                events.Event(
                    events.TASK_CLOSED, report.id, {"task_id": task.id, "outcome": "completed"}
                ),
            )
            progress.apply_task_outcome(session, report, task.milestone, data)
            driver.settle(session, report=report, instance=instance, wf=wf)
            audit.record(
                session,
                actor=principal.actor,
                action="task.completed",
                report_id=report.id,
                instance_id=instance.id,
                task_id=task.id,
                data={
                    "bpmn_id": task.bpmn_id,
                    "milestone": task.milestone,
                    "outcome": data.get("outcome"),
                },
            )
    except StaleDataError as exc:
        raise Conflict(
            "someone else changed this report at the same moment; reload", field="task_id"
        ) from exc
    return task
