"""The sweep: claim due deadlines with row locks and fire each exactly once.

On PostgreSQL rows are claimed with `FOR UPDATE SKIP LOCKED`, so any number of schedulers can
sweep together; SQLite serialises writers. Deadlines fire in due order; each fires in a savepoint
so one failing deadline is logged and retried later without stopping the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from sla import deadlines
from sla.escalation import fire
from sla.models import Deadline, DeadlineFiring

log = logging.getLogger(__name__)
BATCH = 200


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


def sweep_once(session: Session, *, scheduler: str, limit: int = BATCH) -> SweepResult:
    """Fire up to `limit` due deadlines in one transaction."""
    result = SweepResult()
    with session.begin():
        for deadline in _claim(session, limit):
            try:
                with session.begin_nested():
                    fire(session, deadline)
                    deadline.status = deadlines.FIRED
                    deadline.fired_at = clock.now()
                    session.add(
                        DeadlineFiring(
                            deadline_id=deadline.id, scheduler=scheduler, fired_at=deadline.fired_at
                        )
                    )
                result.fired += 1
            except Exception:  # one bad deadline must not stop the rest; it stays pending
                log.exception("deadline %s (%s) failed to fire", deadline.id, deadline.kind)
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
