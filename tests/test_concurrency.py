"""Two officers completing the same task at once: exactly one wins, the other gets 409."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import events
from engine.models import AuditEvent, HumanTask, User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth, driver
from tests.helpers import REPORT


@pytest.mark.postgresql_only
def test_simultaneous_completion_one_200_one_409_one_audit(app: Any, factory: Any) -> None:
    with factory() as s, s.begin():
        if s.scalar(select(User.id).where(User.username == "nasional2")) is None:
            auth.create_user(
                s,
                username="nasional2",
                full_name="Admin Nasional Dua",
                password=DEMO_PASSWORD,
                roles=[("admin_nasional", None, None)],
            )
    client = app.test_client()
    filed = client.post("/api/v1/reports", json=REPORT).get_json()
    tokens = [
        client.post(
            "/api/v1/auth/login", json={"username": u, "password": DEMO_PASSWORD}
        ).get_json()["token"]
        for u in ("nasional", "nasional2")
    ]
    with factory() as s:
        task_id = s.scalar(select(HumanTask.id).where(HumanTask.status == "open"))
    assert task_id is not None

    barrier = threading.Barrier(2, timeout=20)
    loaded: list[int] = []

    def wait_for_both(_session: Any, event: events.Event) -> None:
        if threading.current_thread().name.startswith("officer-"):
            loaded.append(event.payload["instance_id"])
            barrier.wait()

    results: dict[str, Any] = {}

    def complete(name: str, token: str) -> None:
        response = app.test_client().post(
            f"/api/v1/tasks/{task_id}/complete",
            headers={"Authorization": f"Bearer {token}"},
            json={"data": {"outcome": "forward", "target_instansi": "34.04"}},
        )
        results[name] = (response.status_code, response.get_json())

    events.subscribe(driver.INSTANCE_LOADED, wait_for_both)
    try:
        threads = [
            threading.Thread(target=complete, args=(f"officer-{i}", tok), name=f"officer-{i}")
            for i, tok in enumerate(tokens)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        events.unsubscribe(driver.INSTANCE_LOADED, wait_for_both)

    assert len(loaded) == 2, "both requests must have loaded the instance before either saved"
    statuses = sorted(code for code, _ in results.values())
    assert statuses == [200, 409], results
    loser = next(body for code, body in results.values() if code == 409)
    assert loser["status"] == 409 and loser["field"] == "task_id"
    with factory() as s:
        completions = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "task.completed", AuditEvent.task_id == task_id)
        )
        assert completions == 1
        sops = s.scalar(
            select(func.count()).select_from(HumanTask).where(HumanTask.milestone == "disposition")
        )
        assert sops == 1  # the Sleman SOP was started once, not twice
    assert filed["tracking_id"]
