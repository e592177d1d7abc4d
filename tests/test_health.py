"""Liveness and readiness probes; readiness follows a real scheduler's heartbeat."""

from __future__ import annotations

import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import clock, schema
from sla.scheduler import beat
from tests.helpers import problem_of
from tests.processes import start_scheduler, wait_for

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
THRESHOLD = 3  # seconds: LAPOR_READY_HEARTBEAT_SECONDS, shortened for the test


def test_healthz_answers_while_the_process_is_up(client: Any) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_readyz_503_when_no_scheduler_ever_beat(client: Any) -> None:
    body = problem_of(client.get("/readyz"), 503)
    assert body["code"] == "scheduler_stale"
    assert body["checks"]["scheduler"]["last_heartbeat_at"] is None
    assert body["checks"]["scheduler"]["limit_seconds"] == 60
    assert body["checks"]["database"] == {"ok": True}
    assert "lapor scheduler" in body["detail"]


def test_readyz_follows_a_running_scheduler_and_turns_503_once_it_stops(
    make_app: Any, database_url: str, tmp_path: Path
) -> None:
    client = make_app(database_url, READY_HEARTBEAT_SECONDS=THRESHOLD).test_client()
    env = {
        "LAPOR_SCHEDULER_HEARTBEAT_SECONDS": "1",
        "LAPOR_AUDIT_ANCHOR_PATH": str(tmp_path / "anchor.jsonl"),
        "LAPOR_EXPORT_DIR": str(tmp_path / "exports"),
    }
    log_path = tmp_path / "scheduler.log"
    with log_path.open("wb") as log:
        process = start_scheduler(database_url, log, **env)
        try:
            wait_for(lambda: client.get("/readyz").status_code == 200, 30, "ready with a scheduler")
            ready = client.get("/readyz").get_json()
            assert ready["status"] == "ready"
            assert set(ready["checks"]) == {"database", "migrations", "scheduler"}
            assert all(check["ok"] for check in ready["checks"].values())
            assert ready["checks"]["migrations"]["revision"] == schema.head_revision()
            first = ready["checks"]["scheduler"]["last_heartbeat_at"]
            assert ready["checks"]["scheduler"]["heartbeat_age_seconds"] <= THRESHOLD

            def beat_again() -> bool:
                answer = client.get("/readyz")
                return answer.status_code == 200 and (
                    answer.get_json()["checks"]["scheduler"]["last_heartbeat_at"] != first
                )

            wait_for(beat_again, THRESHOLD, "a second heartbeat")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
    assert process.returncode == 0, log_path.read_text()[-3000:]
    stopped = time.monotonic()
    wait_for(lambda: client.get("/readyz").status_code == 503, THRESHOLD + 3, "stale heartbeat")
    assert time.monotonic() - stopped <= THRESHOLD + 1
    body = problem_of(client.get("/readyz"), 503)
    assert body["code"] == "scheduler_stale"
    scheduler_check = body["checks"]["scheduler"]
    assert scheduler_check["ok"] is False and scheduler_check["code"] == "scheduler_stale"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] is True
    last = datetime.fromisoformat(scheduler_check["last_heartbeat_at"])
    assert last.isoformat() in body["detail"]
    assert THRESHOLD < (clock.now() - last).total_seconds() < THRESHOLD + 3


def test_readyz_uses_the_default_threshold_of_a_minute(client: Any, factory: Any) -> None:
    start = datetime.fromisoformat("2026-03-13T03:00:00+00:00")
    clock.set_clock(start)
    with factory() as session:
        beat(session, name="sched-minute")
    clock.set_clock(datetime.fromisoformat("2026-03-13T03:01:00+00:00"))
    assert client.get("/readyz").status_code == 200
    clock.set_clock(datetime.fromisoformat("2026-03-13T03:01:01+00:00"))
    body = problem_of(client.get("/readyz"), 503)
    assert body["checks"]["scheduler"]["last_heartbeat_at"] == start.isoformat()
    assert body["checks"]["scheduler"]["heartbeat_age_seconds"] == 61.0


def test_readyz_503_when_migrations_are_not_current(new_database: Any, make_app: Any) -> None:
    app = make_app(new_database("lapor_unready"), CHECK_MIGRATIONS=False)
    body = problem_of(app.test_client().get("/readyz"), 503)
    assert body["code"] == "migrations_pending"
    assert "lapor db upgrade" in body["detail"]
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False and migrations["revision"] is None
    assert migrations["head"] == schema.head_revision()
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_503_when_the_database_does_not_answer(make_app: Any) -> None:
    # a loopback port nobody listens on (port 1 is privileged and unused)
    app = make_app(UNREACHABLE, CHECK_MIGRATIONS=False)
    body = problem_of(app.test_client().get("/readyz"), 503)
    assert body["code"] == "database_unreachable"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": False,
        "migrations": False,
        "scheduler": False,
    }
