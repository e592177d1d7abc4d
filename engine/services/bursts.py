"""Bursts: when one issue goes viral, officers handle many reports as one.

- Duplicates: a report is linked to a main report of the same complaint; each pelapor keeps
  their own report and timeline, and the link is on both timelines (audited).
- Many at once: the same form data completes many tasks (for example national admins forwarding
  a burst to one instansi). Each task is its own transaction, so one refusal (claimed by
  someone else, already done) does not undo the others; every task gets its own answer.
- One follow-up for a group: completing the main report's task also completes the open task of
  the same milestone on each of its duplicates, so every pelapor is notified.

An officer may link only reports on which they can see an open task; national admins any.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import valid_id
from engine.errors import Conflict, DomainError, InvalidInput, NotFound
from engine.models import HumanTask, Report
from engine.services import audit, tasks
from engine.services.auth import Principal
from engine.services.progress import add_timeline
from engine.services.reports import is_tracking_id

MAX_BATCH = 200


@dataclass(frozen=True)
class ItemResult:
    """One task's answer in a batch: `status` as HTTP would give it (200 when done)."""

    task_id: int
    status: int
    code: str | None = None
    field: str | None = None
    message: str | None = None
    tracking_id: str | None = None


def _batch(task_ids: Iterable[int]) -> list[int]:
    unique = list(dict.fromkeys(task_ids))
    if not unique:
        raise InvalidInput("give at least one task id", field="task_ids")
    if len(unique) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} tasks at once", field="task_ids")
    return unique


def _complete_each(
    session: Session, principal: Principal, task_ids: list[int], data: dict[str, Any]
) -> list[ItemResult]:
    results = []
    for task_id in task_ids:
        try:
            task = tasks.complete(session, principal=principal, task_id=task_id, data=data)
        except DomainError as exc:
            results.append(ItemResult(task_id, exc.status, exc.code, exc.field, exc.message))
        else:
            with session.begin():
                report = session.get(Report, task.report_id)
                tracking = report.tracking_id if report else None
            results.append(ItemResult(task_id, 200, tracking_id=tracking))
    return results


def complete_many(
    session: Session, *, principal: Principal, task_ids: Iterable[int], data: dict[str, Any]
) -> list[ItemResult]:
    """Complete every task with the same form data, each on its own; answers in input order."""
    return _complete_each(session, principal, _batch(task_ids), data)


def _visible_report(session: Session, principal: Principal, tracking_id: str, field: str) -> Report:
    """A report on which the principal sees an open task (national admins: any report)."""
    report = None
    if is_tracking_id(tracking_id):
        report = session.scalar(select(Report).where(Report.tracking_id == tracking_id))
    if report is not None and "admin_nasional" not in principal.roles():
        seen = session.scalar(
            select(HumanTask.id)
            .where(
                HumanTask.report_id == report.id,
                HumanTask.status == "open",
                tasks.visible_clause(principal),
            )
            .limit(1)
        )
        report = report if seen is not None else None
    if report is None:  # another instansi's report looks exactly like a missing one
        raise NotFound(f"no report '{tracking_id[:32]}' among your open work", field=field)
    return report


def duplicates_of(session: Session, *, principal: Principal, main_tracking_id: str) -> list[str]:
    """The tracking ids of the main report's duplicates."""
    with session.begin():
        main = _visible_report(session, principal, main_tracking_id, "tracking_id")
        return list(
            session.scalars(
                select(Report.tracking_id)
                .where(Report.duplicate_of_id == main.id)
                .order_by(Report.id)
            )
        )


def link_duplicate(
    session: Session, *, principal: Principal, main_tracking_id: str, duplicate_tracking_id: str
) -> Report:
    """Link a report to a main report; the duplicate's own duplicates move to the main one."""
    with session.begin():
        main = _visible_report(session, principal, main_tracking_id, "tracking_id")
        duplicate = _visible_report(session, principal, duplicate_tracking_id, "duplicate")
        if main.id == duplicate.id:
            raise InvalidInput("a report cannot be its own duplicate", field="duplicate")
        if main.duplicate_of_id is not None:
            raise Conflict(
                "that report is itself a duplicate: link to its main report", field="tracking_id"
            )
        if duplicate.duplicate_of_id is not None:
            raise Conflict("the report is already linked to a main report", field="duplicate")
        for follower in session.scalars(
            select(Report).where(Report.duplicate_of_id == duplicate.id)
        ):
            follower.duplicate_of_id = main.id
        duplicate.duplicate_of_id = main.id
        add_timeline(session, duplicate, "linked", data={"main": main.tracking_id}, public=False)
        add_timeline(
            session,
            main,
            "duplicate_added",
            data={"duplicate": duplicate.tracking_id},
            public=False,
        )
        audit.record(
            session,
            actor=principal.actor,
            action="report.duplicate_linked",
            report_id=duplicate.id,
            data={"main": main.tracking_id, "duplicate": duplicate.tracking_id},
        )
        return duplicate


def unlink_duplicate(
    session: Session, *, principal: Principal, main_tracking_id: str, duplicate_tracking_id: str
) -> None:
    with session.begin():
        main = _visible_report(session, principal, main_tracking_id, "tracking_id")
        duplicate = session.scalar(
            select(Report).where(
                Report.tracking_id == duplicate_tracking_id[:32],
                Report.duplicate_of_id == main.id,
            )
        )
        if duplicate is None:
            raise NotFound("that report is not a duplicate of this one", field="duplicate")
        duplicate.duplicate_of_id = None
        add_timeline(session, duplicate, "unlinked", data={"main": main.tracking_id}, public=False)
        audit.record(
            session,
            actor=principal.actor,
            action="report.duplicate_unlinked",
            report_id=duplicate.id,
            data={"main": main.tracking_id, "duplicate": duplicate.tracking_id},
        )


def complete_group(
    session: Session, *, principal: Principal, task_id: int, data: dict[str, Any]
) -> list[ItemResult]:
    """Complete a main report's task, then the open task of the same milestone on each of its
    duplicates with the same data (the main task first; stops there if it is refused)."""
    with session.begin():
        task = (
            session.scalar(
                select(HumanTask).where(HumanTask.id == task_id, tasks.visible_clause(principal))
            )
            if valid_id(task_id)
            else None
        )
        if task is None:
            raise NotFound("no such task", field="task_id")
        followers = list(
            session.scalars(
                select(HumanTask.id)
                .join(Report, Report.id == HumanTask.report_id)
                .where(
                    Report.duplicate_of_id == task.report_id,
                    HumanTask.status == "open",
                    HumanTask.milestone == task.milestone,
                    tasks.visible_clause(principal),
                )
                .order_by(HumanTask.id)
            )
        )
    main = _complete_each(session, principal, [task_id], data)
    if main[0].status != 200:
        first = main[0]
        raise DomainError(
            first.message or "refused", field=first.field, code=first.code, status=first.status
        )
    return main + _complete_each(session, principal, followers, data)
