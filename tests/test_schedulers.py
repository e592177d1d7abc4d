"""Real scheduler processes: several `lapor scheduler` processes sweep one PostgreSQL database,
and every deadline fires exactly once, its email counted at a real SMTP server."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from engine import clock
from engine.models import HumanTask, User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from sla.models import Deadline, DeadlineFiring, SchedulerHeartbeat
from tests.helpers import REPORT
from tests.processes import start_scheduler, wait_for
from tests.smtp_server import SmtpServer

DEADLINES = 2000


@pytest.mark.postgresql_only
def test_two_schedulers_fire_each_of_2000_deadlines_once(
    client: Any, factory: Any, database_url: str, tmp_path: Path
) -> None:
    with factory() as s, s.begin():
        user = s.scalar(select(User).where(User.username == "nasional.mail"))
        if user is None:
            user = auth.create_user(
                s,
                username="nasional.mail",
                full_name="Admin Nasional",
                password=DEMO_PASSWORD,
                email="nasional@lapor.test",
                roles=[("admin_nasional", None, None)],
            )
        user_id = user.id
    assert client.post("/api/v1/reports", json=REPORT).status_code == 201
    with factory() as s, s.begin():
        task = s.scalar(select(HumanTask).where(HumanTask.status == "open"))
        task.assignee_id = user_id  # reminders go to the assignee, by email
        task_id, report_id = task.id, task.report_id

    smtp = SmtpServer().start()
    logs = [tmp_path / f"scheduler-{i}.log" for i in range(2)]
    log_files = [log.open("wb") for log in logs]
    smtp_env = {"LAPOR_SMTP_HOST": smtp.host, "LAPOR_SMTP_PORT": str(smtp.port)}
    schedulers = [start_scheduler(database_url, log, **smtp_env) for log in log_files]
    try:

        def both_up() -> bool:
            with factory() as s:
                return (s.scalar(select(func.count()).select_from(SchedulerHeartbeat)) or 0) >= 2

        wait_for(both_up, 30, "two scheduler heartbeats")

        due = clock.now() - timedelta(minutes=1)
        with factory() as s, s.begin():
            s.execute(
                insert(Deadline),
                [
                    {
                        "kind": "reminder",
                        "report_id": report_id,
                        "task_id": task_id,
                        "level": 0,
                        "due_at": due,
                        "status": "pending",
                        "created_at": due,
                    }
                    for _ in range(DEADLINES)
                ],
            )

        def all_fired() -> bool:
            with factory() as s:
                return (
                    s.scalar(
                        select(func.count())
                        .select_from(Deadline)
                        .where(Deadline.status == "pending", Deadline.due_at <= due)
                    )
                    == 0
                )

        started = time.monotonic()
        wait_for(all_fired, 60, "every deadline to fire")
        print(f"2000 deadlines fired in {time.monotonic() - started:.1f}s")
        wait_for(lambda: len(smtp.received()) >= DEADLINES, 90, "every reminder email")
        time.sleep(1.0)  # anything duplicated would arrive now
    finally:
        for process in schedulers:
            process.send_signal(signal.SIGTERM)
        for process in schedulers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        for log_file in log_files:
            log_file.close()

    with factory() as s:
        firings = s.execute(
            select(DeadlineFiring.deadline_id, DeadlineFiring.scheduler)
            .join(Deadline)
            .where(Deadline.kind == "reminder")
        ).all()
    per_deadline = Counter(deadline_id for deadline_id, _ in firings)
    assert len(per_deadline) == DEADLINES
    assert set(per_deadline.values()) == {1}, "a deadline fired more than once"
    per_scheduler = Counter(name for _, name in firings)
    assert len(per_scheduler) == 2, f"both schedulers should fire some: {per_scheduler}"
    ids = smtp.message_ids()
    assert len(ids) == DEADLINES and len(set(ids)) == DEADLINES
    for process, log in zip(schedulers, logs, strict=True):
        assert process.returncode == 0, log.read_text()[-3000:]
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
