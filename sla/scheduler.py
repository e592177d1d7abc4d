"""The scheduler process: APScheduler runs a few periodic jobs that call service functions.

Deadlines will live in our own indexed table (see ../shared/ENGINE-NOTES.md); APScheduler only
runs the periodic sweeps, with an in-memory job store so schedulers never share one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from sla.models import SchedulerHeartbeat

if TYPE_CHECKING:
    from sla.retention import Policy

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15
# the run of a periodic job this thread is in (`sweep-1f3a9c2e`), for the log lines it writes
current_job: ContextVar[str | None] = ContextVar("lapor_job", default=None)


def as_job(job_id: str, job: Callable[[], None]) -> Callable[[], None]:
    """`job`, naming each of its runs in `current_job` while it runs."""

    def run() -> None:
        token = current_job.set(f"{job_id}-{uuid.uuid4().hex[:8]}")
        try:
            job()
        finally:
            current_job.reset(token)

    run.__name__ = run.__qualname__ = f"{job_id}_job"
    return run


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


def latest_beat(session: Session) -> datetime | None:
    """When the most recent heartbeat of any scheduler was recorded (None: never)."""
    with session.begin():
        return session.scalar(select(func.max(SchedulerHeartbeat.beat_at)))


def beats_since(session: Session, since: datetime) -> list[tuple[str, datetime]]:
    """(name, last beat) of each scheduler that beat at or after `since`, by name."""
    with session.begin():
        rows = session.execute(
            select(SchedulerHeartbeat.name, SchedulerHeartbeat.beat_at)
            .where(SchedulerHeartbeat.beat_at >= since)
            .order_by(SchedulerHeartbeat.name)
        )
        return [(name, beat_at) for name, beat_at in rows]


SWEEP_SECONDS = 1
IDEMPOTENCY_PURGE_SECONDS = 3600  # answers to Idempotency-Key live 24 hours
OUTBOX_SECONDS = 2
OUTBOX_BATCH = 100
OUTBOX_BATCHES_PER_TICK = 10
AUDIT_CHECKPOINT_SECONDS = 300  # newest events deleted within this window go unnoticed


RETENTION_SECONDS = 24 * 60 * 60


def build_scheduler(
    factory: sessionmaker,
    *,
    audit_key: bytes,
    audit_anchor: str | None = None,
    retention: Policy | None = None,
    name: str | None = None,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
    export_dir: str | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started): heartbeat, deadline sweep, outbox delivery and audit
    checkpoint jobs (`audit_key` signs the checkpoints, copied to the `audit_anchor` file when
    given: engine.services.audit_anchor), and with `retention` the daily purge
    of personal data past its retention (sla.retention). A heartbeat every `heartbeat_seconds`
    (readiness wants one within `LAPOR_READY_HEARTBEAT_SECONDS`).

    Deadlines live in our own table (the truth); these periodic jobs only poll it.
    """
    from engine.services import audit, idempotency
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
                run = audit.checkpoint(session, key=audit_key, anchor=audit_anchor)
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

    def idempotency_job() -> None:
        try:
            with factory() as session:
                purged = idempotency.purge_expired(session)
            if purged:
                log.info("idempotency: %d answers older than 24 hours dropped", purged)
        except Exception:  # retried on the next tick
            log.exception("idempotency purge failed")

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
        (heartbeat_job, heartbeat_seconds, "heartbeat"),
        (sweep_job, SWEEP_SECONDS, "sweep"),
        (outbox_job, OUTBOX_SECONDS, "outbox"),
        (checkpoint_job, AUDIT_CHECKPOINT_SECONDS, "audit_checkpoint"),
        (idempotency_job, IDEMPOTENCY_PURGE_SECONDS, "idempotency_purge"),
    ):
        scheduler.add_job(
            as_job(job_id, job), "interval", seconds=seconds, id=job_id, next_run_time=start_now
        )
    if retention is not None:  # first run a minute after start, then daily
        scheduler.add_job(
            as_job("retention", retention_job),
            "interval",
            seconds=RETENTION_SECONDS,
            id="retention",
            next_run_time=start_now + timedelta(minutes=1),
        )
    if export_dir is not None:  # report exports: queued jobs, and those whose worker died
        busy = threading.Lock()  # a tick during a long export returns at once (no skip warning)
        scheduler.add_job(
            as_job("exports", lambda: _run_exports(factory, export_dir, me, busy)),
            "interval",
            seconds=EXPORT_SECONDS,
            id="exports",
            next_run_time=start_now,
            max_instances=2,
        )
    return scheduler


EXPORT_SECONDS = 2
EXPORTS_PER_TICK = 5  # then the next tick: shutdown waits for at most these


def _run_exports(factory: sessionmaker, directory: str, worker: str, busy: threading.Lock) -> None:
    """Run waiting report exports (engine.services.exports), one after another; nothing while
    this scheduler's previous tick still runs one."""
    from engine.services import exports

    if not busy.acquire(blocking=False):
        return
    try:
        for _ in range(EXPORTS_PER_TICK):
            if exports.run_next(factory, directory=directory, worker=worker) is None:
                break
    except Exception:  # a failed claim is retried on the next tick
        log.exception("report exports failed")
    finally:
        busy.release()
