"""The scheduler process: APScheduler runs a few periodic jobs that call service functions.

Deadlines will live in our own indexed table (see ../shared/ENGINE-NOTES.md); APScheduler only
runs the periodic sweeps, with an in-memory job store so schedulers never share one.
"""

from __future__ import annotations

import logging
import os
import socket

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


def build_scheduler(factory: sessionmaker, *, name: str | None = None) -> BackgroundScheduler:
    """A scheduler (not started) with the heartbeat job; later sweeps are added here."""
    me = name or scheduler_name()

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
    scheduler.add_job(
        heartbeat_job,
        "interval",
        seconds=HEARTBEAT_SECONDS,
        id="heartbeat",
        next_run_time=clock.now(),
    )
    return scheduler
