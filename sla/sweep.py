"""The sweep: claim due deadlines with row locks and fire each exactly once.

On PostgreSQL rows are claimed with `FOR UPDATE SKIP LOCKED`, so any number of schedulers can
sweep together; SQLite serialises writers. Deadlines fire in due order; each fires in a savepoint
so one failing deadline is logged and retried later without stopping the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.models import HumanTask, Report, User
from sla import deadlines
from sla.escalation import fire
from sla.models import Deadline, DeadlineFiring

log = logging.getLogger(__name__)
BATCH = 200
MAX_FAILURES = 10


@dataclass
class SweepResult:
    fired: int = 0
    failed: int = 0


def _claim(session: Session, limit: int) -> list[Deadline]:
    stmt = (
        select(Deadline)
        .where(Deadline.status == deadlines.PENDING, Deadline.due_at <= clock.now())
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def _preload(session: Session, claimed: list[Deadline]) -> list[object]:
    """Load the batch's reports, tasks and assignees in three queries instead of per firing."""
    report_ids = {d.report_id for d in claimed}
    task_ids = {d.task_id for d in claimed if d.task_id is not None}
    held: list[object] = list(session.scalars(select(Report).where(Report.id.in_(report_ids))))
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids))))
    assignees = {t.assignee_id for t in tasks if t.assignee_id is not None}
    held += tasks
    held += list(session.scalars(select(User).where(User.id.in_(assignees))))
    return held


def _postpone(deadline: Deadline, exc: Exception) -> None:
    """Retry a failing deadline later (1, 2, 4... minutes); give up after MAX_FAILURES."""
    payload = dict(deadline.payload or {})
    failures = int(payload.get("failures", 0)) + 1
    payload.update(failures=failures, last_error=f"{type(exc).__name__}: {exc}"[:500])
    deadline.payload = payload
    if failures >= MAX_FAILURES:
        deadline.status = deadlines.FAILED
    else:
        deadline.due_at = clock.now() + timedelta(minutes=2 ** (failures - 1))


def _fire_one(session: Session, deadline: Deadline, scheduler: str) -> None:
    fire(session, deadline)
    deadline.status = deadlines.FIRED
    deadline.fired_at = clock.now()
    session.add(
        DeadlineFiring(deadline_id=deadline.id, scheduler=scheduler, fired_at=deadline.fired_at)
    )


def sweep_once(session: Session, *, scheduler: str, limit: int = BATCH) -> SweepResult:
    """Fire up to `limit` due deadlines in one transaction.

    The batch first fires as a whole (one batched flush); if anything in it fails, the
    transaction is rolled back and the batch is fired again one savepoint per deadline, so the
    failing ones are postponed and the rest still fire.
    """
    try:
        with session.begin():
            claimed = _claim(session, limit)
            held = _preload(session, claimed)  # noqa: F841  (keeps the identity map warm)
            for deadline in claimed:
                _fire_one(session, deadline, scheduler)
            session.flush()
        return SweepResult(fired=len(claimed))
    except Exception:
        log.warning("a deadline in the batch failed; firing one by one", exc_info=True)
    result = SweepResult()
    with session.begin():
        claimed = _claim(session, limit)
        held = _preload(session, claimed)  # noqa: F841
        for deadline in claimed:
            try:
                with session.begin_nested():
                    _fire_one(session, deadline, scheduler)
                result.fired += 1
            except Exception as exc:  # one bad deadline must not stop the rest
                log.exception("deadline %s (%s) failed to fire", deadline.id, deadline.kind)
                _postpone(deadline, exc)
                result.failed += 1
    return result


def sweep(factory: sessionmaker, *, scheduler: str, limit: int = BATCH) -> SweepResult:
    """Sweep until nothing fireable is due."""
    total = SweepResult()
    while True:
        with factory() as session:
            batch = sweep_once(session, scheduler=scheduler, limit=limit)
        total.fired += batch.fired
        total.failed += batch.failed
        if batch.fired < limit or batch.fired == 0:
            return total
