"""BPMN timer events (intermediate catch, boundary) wake their instance at their fire time.

The engine announces, after every settle, the timer moments an instance waits for
(`INSTANCE_SETTLED`); this subscriber keeps exactly one pending `deadline` row of kind
`bpmn_timer` per moment (rows for moments no longer waited for are cancelled, missing ones are
scheduled), in the same transaction. The sweep fires due rows like any deadline; `fire` wakes the
instance through the engine's service step, which refreshes its timers against `engine.clock`,
runs what follows and settles again, so the next moment is planned by the same subscriber.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import events
from engine.services import driver
from sla import deadlines
from sla.models import Deadline

KIND = "bpmn_timer"


def pending_for(session: Session, *, report_id: int, instance_id: int) -> list[Deadline]:
    """The instance's pending timer deadlines (found through the indexed report id).

    On PostgreSQL rows a sweep has claimed (locked) are skipped: that sweep is firing them, and
    waiting for its lock while it waits for this instance's row would deadlock.
    """
    stmt = (
        select(Deadline)
        .where(
            Deadline.report_id == report_id,
            Deadline.kind == KIND,
            Deadline.status == deadlines.PENDING,
            Deadline.instance_id == instance_id,
        )
        .order_by(Deadline.due_at, Deadline.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def plan(session: Session, *, report_id: int, instance_id: int, moments: list[datetime]) -> None:
    """Make the instance's pending timer deadlines exactly `moments` (one row per moment)."""
    wanted = Counter(moments)
    for row in pending_for(session, report_id=report_id, instance_id=instance_id):
        if wanted[row.due_at] > 0:
            wanted[row.due_at] -= 1
        else:
            row.status = deadlines.CANCELLED
    for moment in sorted(wanted.elements()):
        row = deadlines.schedule(
            session,
            kind=KIND,
            report_id=report_id,
            due_at=moment,
            payload={"instance_id": instance_id},
        )
        row.instance_id = instance_id


def on_instance_settled(session: Session, event: events.Event) -> None:
    if not event.payload.get("uses_timers"):
        return  # a definition without timers never had a timer deadline: no query
    moments = [datetime.fromisoformat(text) for text in event.payload.get("timers", [])]
    plan(
        session,
        report_id=event.report_id,
        instance_id=int(event.payload["instance_id"]),
        moments=moments if event.payload.get("status") == driver.RUNNING else [],
    )


def fire(session: Session, deadline: Deadline) -> None:
    """Wake the deadline's instance (inside the sweep's transaction)."""
    if deadline.status != deadlines.PENDING or deadline.instance_id is None:
        return  # cancelled earlier in this batch: its instance was already woken
    # no longer pending, so if the timer is still not due the settle plans a fresh row for it
    deadline.status = deadlines.FIRED
    driver.wake_timers(session, instance_id=deadline.instance_id)


def install() -> None:
    """Subscribe the timer bookkeeping to engine events (idempotent)."""
    events.subscribe(events.INSTANCE_SETTLED, on_instance_settled)
