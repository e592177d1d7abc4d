"""The test-mode clock every process shares: one database row, read by `engine.clock` once
`sla.shared_clock.enable` ran (the app and the scheduler do so when LAPOR_TEST_CLOCK is on),
set over REST only in test mode, and followed by a separate `lapor scheduler` process."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from api.config import Settings
from engine import clock
from engine.errors import InvalidInput
from engine.models import HumanTask
from sla import shared_clock
from sla.models import ClockSetting, Deadline, DeadlineFiring
from tests.helpers import REPORT
from tests.processes import start_scheduler, wait_for

FAR = datetime(2031, 6, 2, 1, 0, tzinfo=UTC)
CLOCK_URL = "/api/v1/testing/clock"


@pytest.fixture(autouse=True)
def back_to_the_wall() -> Iterator[None]:
    yield
    shared_clock.disable()


def between(low: datetime, value: datetime, high: datetime) -> bool:
    return low <= value <= high


def test_enabled_clock_follows_the_stored_setting(factory: Any) -> None:
    shared_clock.enable(factory, ttl_seconds=3600)
    before, now, after = clock.wall(), clock.now(), clock.wall()
    assert between(before, now, after)  # no row: the wall clock

    with factory() as s:
        state = shared_clock.store(s, fixed_at=datetime(2031, 6, 2, 8, 0, tzinfo=UTC))
    assert state.shared and state.now == datetime(2031, 6, 2, 8, 0, tzinfo=UTC)
    assert clock.now() == clock.now() == datetime(2031, 6, 2, 8, 0, tzinfo=UTC)  # frozen

    with factory() as s:
        shared_clock.store(s, offset_seconds=86400)
    day = timedelta(days=1)
    before, now, after = clock.wall(), clock.now(), clock.wall()
    assert between(before + day, now, after + day)  # running, a day ahead

    with factory() as s:
        assert not shared_clock.clear(s).shared
        assert not shared_clock.read(s).shared
    before, now, after = clock.wall(), clock.now(), clock.wall()
    assert between(before, now, after)


def test_other_processes_changes_are_read_after_the_ttl(factory: Any) -> None:
    source = shared_clock.enable(factory, ttl_seconds=3600)
    with factory() as s:
        shared_clock.store(s, fixed_at=FAR)
    assert clock.now() == FAR
    with factory() as s, s.begin():  # as another process would: no local invalidation
        s.execute(update(ClockSetting).values(fixed_at=FAR + timedelta(hours=1)))
    assert clock.now() == FAR  # cached: hot paths do not query on every call
    source.invalidate()  # what the ttl expiring does
    assert clock.now() == FAR + timedelta(hours=1)

    shared_clock.enable(factory, ttl_seconds=0)
    with factory() as s, s.begin():
        s.execute(update(ClockSetting).values(fixed_at=FAR + timedelta(hours=2)))
    assert clock.now() == FAR + timedelta(hours=2)


def test_set_clock_and_set_source_keep_their_meaning() -> None:
    clock.set_source(lambda: FAR)
    assert clock.now() == FAR
    clock.set_clock(FAR + timedelta(days=1))
    assert clock.now() == FAR + timedelta(days=1)
    clock.set_source(None)
    before, now, after = clock.wall(), clock.now(), clock.wall()
    assert between(before, now, after)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fixed_at": datetime(2031, 6, 2, 8, 0)}, "now"),
        ({"fixed_at": FAR, "offset_seconds": 5}, "offset_seconds"),
        ({"offset_seconds": 200 * 366 * 86400}, "offset_seconds"),
    ],
)
def test_store_refuses_bad_settings(factory: Any, kwargs: dict[str, Any], field: str) -> None:
    with factory() as s, pytest.raises(InvalidInput) as err:
        shared_clock.store(s, **kwargs)
    assert err.value.field == field


def test_test_clock_setting_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAPOR_TEST_CLOCK", raising=False)
    assert Settings.from_env().TEST_CLOCK is False
    monkeypatch.setenv("LAPOR_TEST_CLOCK", "1")
    assert Settings.from_env().TEST_CLOCK is True


def test_testing_routes_do_not_exist_without_test_clock(client: Any) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = client.open(CLOCK_URL, method=method, json={"offset_seconds": 1})
        assert response.status_code == 404
    assert "/api/v1/testing/clock" not in client.get("/api/openapi.json").get_json()["paths"]


def test_clock_over_rest_in_test_mode(make_app: Any, database_url: str) -> None:
    client = make_app(database_url, TEST_CLOCK=True).test_client()
    body = client.get(CLOCK_URL).get_json()
    assert body["shared"] is False and body["fixed_at"] is None

    response = client.put(CLOCK_URL, json={"now": "2031-06-02T09:00:00+07:00"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["now"] == body["fixed_at"] == "2031-06-02T02:00:00+00:00"
    assert body["shared"] is True and body["offset_seconds"] == 0
    assert clock.now() == datetime(2031, 6, 2, 2, 0, tzinfo=UTC)  # this process follows at once
    assert client.get(CLOCK_URL).get_json()["now"] == "2031-06-02T02:00:00+00:00"

    response = client.put(CLOCK_URL, json={"offset_seconds": 3600})
    assert response.status_code == 200
    assert response.get_json()["fixed_at"] is None
    before, now, after = clock.wall(), clock.now(), clock.wall()
    assert between(before + timedelta(hours=1), now, after + timedelta(hours=1))

    for bad in ({}, {"now": "2031-06-02T09:00:00"}, {"now": FAR.isoformat(), "offset_seconds": 1}):
        response = client.put(CLOCK_URL, json=bad)
        assert response.status_code == 422, bad
        assert response.mimetype == "application/problem+json"

    response = client.delete(CLOCK_URL)
    assert response.status_code == 200 and response.get_json()["shared"] is False
    before, now, after = clock.wall(), clock.now(), clock.wall()
    assert between(before, now, after)


def test_a_scheduler_process_follows_the_clock_stored_by_another(
    client: Any, factory: Any, database_url: str, tmp_path: Path
) -> None:
    assert client.post("/api/v1/reports", json=REPORT).status_code == 201
    soon = clock.wall() - timedelta(minutes=1)
    with factory() as s, s.begin():
        task = s.scalar(select(HumanTask).where(HumanTask.status == "open"))
        rows = [
            Deadline(
                kind="reminder",
                report_id=task.report_id,
                task_id=task.id,
                due_at=due,
                status="pending",
                created_at=soon,
            )
            for due in (soon, FAR)
        ]
        s.add_all(rows)
        s.flush()
        control_id, far_id = rows[0].id, rows[1].id

    def fired_at(deadline_id: int) -> datetime | None:
        with factory() as s:
            return s.scalar(select(Deadline.fired_at).where(Deadline.id == deadline_id))

    log_path = tmp_path / "scheduler.log"
    with log_path.open("wb") as log:
        process = start_scheduler(database_url, log, LAPOR_TEST_CLOCK="1")
        try:
            # the control deadline firing proves a sweep ran after both rows were there
            wait_for(lambda: fired_at(control_id) is not None, 60, "the due deadline to fire")
            assert fired_at(far_id) is None  # not due on the wall clock
            with factory() as s:
                shared_clock.store(s, fixed_at=FAR)
            wait_for(lambda: fired_at(far_id) is not None, 30, "the 2031 deadline to fire")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    assert fired_at(far_id) == FAR  # fired by the frozen shared clock, not the wall
    with factory() as s:
        by = s.scalars(select(DeadlineFiring.scheduler).where(DeadlineFiring.deadline_id == far_id))
        assert list(by) == [f"{socket.gethostname()}:{process.pid}"]
    text = log_path.read_text()
    assert process.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert "TEST CLOCK ON" in text
