"""In-transaction events: subscribers see task and status changes inside the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import events
from engine.models import AuditEvent, Report
from tests.helpers import REPORT, Api


@pytest.fixture()
def recorded() -> Iterator[list[tuple[str, dict[str, Any], bool]]]:
    seen: list[tuple[str, dict[str, Any], bool]] = []

    def handler(session: Any, event: events.Event) -> None:
        seen.append((event.name, dict(event.payload), session.in_transaction()))

    names = (events.TASK_OPENED, events.TASK_CLOSED, events.STATUS_CHANGED)
    for name in names:
        events.subscribe(name, handler)
    yield seen
    for name in names:
        events.unsubscribe(name, handler)


def test_events_follow_the_report(fresh_client: Any, recorded: list) -> None:
    api = Api(fresh_client)
    tracking = api.file()["tracking_id"]
    assert [name for name, _, _ in recorded] == [events.TASK_OPENED]
    assert recorded[0][1]["milestone"] == "verification"
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    assert [
        (name, payload.get("milestone") or payload.get("to") or payload.get("outcome"))
        for name, payload, _ in recorded[1:]
    ] == [
        (events.TASK_CLOSED, "completed"),
        (events.STATUS_CHANGED, "forwarded"),
        (events.TASK_OPENED, "disposition"),
    ]
    assert all(in_tx for _, _, in_tx in recorded)


def test_failing_subscriber_rolls_the_whole_change_back(client: Any, factory: Any) -> None:
    def explode(session: Any, event: events.Event) -> None:
        raise RuntimeError("subscriber failed")

    events.subscribe(events.TASK_OPENED, explode)
    try:
        response = client.post("/api/v1/reports", json=REPORT)
    finally:
        events.unsubscribe(events.TASK_OPENED, explode)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    with factory() as s:  # nothing half-made: no report, no audit event
        assert s.scalar(select(func.count()).select_from(Report)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
