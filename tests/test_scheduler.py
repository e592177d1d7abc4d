"""The scheduler process runs its periodic jobs for real and records a heartbeat."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from sla.models import SchedulerHeartbeat
from sla.scheduler import beat, build_scheduler


def test_beat_records_and_updates_with_the_clock(factory: Any) -> None:
    clock.set_clock(datetime(2026, 3, 13, 3, 0, tzinfo=UTC))
    with factory() as s:
        first = beat(s, name="sched-a")
    clock.set_clock(datetime(2026, 3, 13, 3, 1, tzinfo=UTC))
    with factory() as s:
        beat(s, name="sched-a")
        row = s.scalar(select(SchedulerHeartbeat).where(SchedulerHeartbeat.name == "sched-a"))
    assert row is not None
    assert row.started_at == first.started_at == datetime(2026, 3, 13, 3, 0, tzinfo=UTC)
    assert row.beat_at == datetime(2026, 3, 13, 3, 1, tzinfo=UTC)


def test_running_scheduler_writes_heartbeat(factory: Any) -> None:
    scheduler = build_scheduler(factory, audit_key=b"k" * 32, name="sched-live")
    scheduler.start()
    jobs = {job.id for job in scheduler.get_jobs()}
    assert jobs == {"heartbeat", "sweep", "outbox", "audit_checkpoint", "idempotency_purge"}
    try:
        deadline = time.monotonic() + 10
        row = None
        while time.monotonic() < deadline and row is None:
            with factory() as s:
                row = s.scalar(
                    select(SchedulerHeartbeat).where(SchedulerHeartbeat.name == "sched-live")
                )
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert row is not None
