"""The scheduler process: APScheduler runs a few periodic jobs that call service functions.

Deadlines will live in our own indexed table (see ../shared/ENGINE-NOTES.md); APScheduler only
runs the periodic sweeps, with an in-memory job store so schedulers never share one.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from sla.models import SchedulerHeartbeat

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15


def scheduler_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(session: Session, *, name: str) -> SchedulerHeartbeat:
    """Record that scheduler `name` is alive now (one transaction)."""
    with session.begin():
        row = session.scalar(select(SchedulerHeartbeat).where(SchedulerHeartbeat.name == name))
        now = clock.now()
        if row is None:
            row = SchedulerHeartbeat(name=name, beat_at=now, started_at=now)
            session.add(row)
        else:
            row.beat_at = now
    return row


SWEEP_SECONDS = 1
OUTBOX_SECONDS = 2
OUTBOX_BATCH = 100
OUTBOX_BATCHES_PER_TICK = 10


def build_scheduler(factory: sessionmaker, *, name: str | None = None) -> BackgroundScheduler:
    """A scheduler (not started): heartbeat, deadline sweep and outbox delivery jobs.

    Deadlines live in our own table (the truth); these periodic jobs only poll it.
    """
    from sla import install, outbox, sweep

    install()
    me = name or scheduler_name()

    def sweep_job() -> None:
        try:
            sweep.sweep(factory, scheduler=me)
        except Exception:  # a failed sweep is retried on the next tick
            log.exception("deadline sweep failed")

    def outbox_job() -> None:
        try:
            # drain a burst, a bounded number of batches per tick so shutdown stays prompt
            for _ in range(OUTBOX_BATCHES_PER_TICK):
                report = outbox.deliver_due(factory, limit=OUTBOX_BATCH)
                if report.sent + report.retried + report.dead < OUTBOX_BATCH:
                    break
        except Exception:
            log.exception("outbox delivery failed")

    def heartbeat_job() -> None:
        try:
            with factory() as session:
                beat(session, name=me)
        except Exception:  # one failed beat must not kill the scheduler thread
            log.exception("heartbeat failed")

    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    # APScheduler ticks on the wall clock (when to poll); what is due is decided by engine.clock.
    start_now = datetime.now(UTC)
    for job, seconds, job_id in (
        (heartbeat_job, HEARTBEAT_SECONDS, "heartbeat"),
        (sweep_job, SWEEP_SECONDS, "sweep"),
        (outbox_job, OUTBOX_SECONDS, "outbox"),
    ):
        scheduler.add_job(job, "interval", seconds=seconds, id=job_id, next_run_time=start_now)
    return scheduler
