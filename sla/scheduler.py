"""The scheduler process: APScheduler runs a few periodic jobs that call service functions.

Deadlines will live in our own indexed table (see ../shared/ENGINE-NOTES.md); APScheduler only
runs the periodic sweeps, with an in-memory job store so schedulers never share one.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from sla.models import SchedulerHeartbeat

if TYPE_CHECKING:
    from sla.retention import Policy

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
AUDIT_CHECKPOINT_SECONDS = 300  # newest events deleted within this window go unnoticed


RETENTION_SECONDS = 24 * 60 * 60


def build_scheduler(
    factory: sessionmaker,
    *,
    audit_key: bytes,
    retention: Policy | None = None,
    name: str | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started): heartbeat, deadline sweep, outbox delivery and audit
    checkpoint jobs (`audit_key` signs the checkpoints), and with `retention` the daily purge
    of personal data past its retention (sla.retention).

    Deadlines live in our own table (the truth); these periodic jobs only poll it.
    """
    from engine.services import audit
    from sla import install, outbox, sweep
    from sla import retention as purging

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

    def checkpoint_job() -> None:
        try:
            with factory() as session:
                run = audit.checkpoint(session, key=audit_key)
            if run.written:
                log.info("audit checkpoints: %d of %d chains signed", run.written, run.chains)
        except Exception:  # retried on the next tick
            log.exception("audit checkpoint failed")

    def retention_job() -> None:
        assert retention is not None
        try:
            run = purging.purge(factory, policy=retention)
            log.info("retention purge: %s (%d failed)", run.counts, run.failed)
        except Exception:  # retried the next day; one failed run must not kill the thread
            log.exception("retention purge failed")

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
        (checkpoint_job, AUDIT_CHECKPOINT_SECONDS, "audit_checkpoint"),
    ):
        scheduler.add_job(job, "interval", seconds=seconds, id=job_id, next_run_time=start_now)
    if retention is not None:  # first run a minute after start, then daily
        scheduler.add_job(
            retention_job,
            "interval",
            seconds=RETENTION_SECONDS,
            id="retention",
            next_run_time=start_now + timedelta(minutes=1),
        )
    return scheduler
