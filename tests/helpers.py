"""Small, fixed-value factories for API tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine import clock
from engine.seed.loader import DEMO_PASSWORD

REPORT = {
    "classification": "pengaduan",
    "category": "infrastruktur",
    "title": "Jalan rusak di Jalan Kaliurang km 10",
    "body": "Jalan di depan pasar berlubang besar sejak Januari dan membahayakan pengendara.",
    "region_code": "34.04",
    "target_instansi": "34.04",
    "anonim": False,
    "rahasia": False,
    "pelapor_name": "Sentinel Pelapor",
    "pelapor_email": "sentinel@example.org",
    "pelapor_phone": "+62 812 0000 1111",
}


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """Assert a problem+json answer with `status`; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


class Api:
    """Drives the HTTP API; each call may run on a brand-new app (`fresh` context factory)."""

    def __init__(self, fresh: Callable[[], Any]) -> None:
        self.fresh = fresh
        self.tokens: dict[str, tuple[str, datetime]] = {}

    def call(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        json: Any = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with self.fresh() as client:
            return client.open(url, method=method, json=json, headers=headers, query_string=query)

    def login(self, username: str) -> str:
        """A bearer token for `username`, fresh whenever the test moved the clock."""
        cached = self.tokens.get(username)
        if cached is None or cached[1] != clock.now():
            response = self.call(
                "POST",
                "/api/v1/auth/login",
                json={"username": username, "password": DEMO_PASSWORD},
            )
            assert response.status_code == 200, response.get_json()
            cached = (response.get_json()["token"], clock.now())
            self.tokens[username] = cached
        return cached[0]

    def file(self, **overrides: Any) -> dict[str, Any]:
        response = self.call("POST", "/api/v1/reports", json={**REPORT, **overrides})
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def report(self, tracking_id: str, secret: str | None = None) -> dict[str, Any]:
        response = self.call(
            "GET", f"/api/v1/reports/{tracking_id}", query={"secret": secret} if secret else None
        )
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def task_for(self, username: str, tracking_id: str) -> dict[str, Any]:
        """The one open task of the report that `username` sees in their inbox."""
        token = self.login(username)
        response = self.call("GET", "/api/v1/tasks", token=token)
        assert response.status_code == 200, response.get_json()
        found = []
        for task in response.get_json():
            detail = self.call("GET", f"/api/v1/tasks/{task['id']}", token=token).get_json()
            if detail["report"]["tracking_id"] == tracking_id:
                found.append(detail)
        assert len(found) == 1, f"{username} sees {len(found)} tasks for {tracking_id}"
        return found[0]

    def complete(
        self, username: str, tracking_id: str, data: dict[str, Any], expect: int = 200
    ) -> dict[str, Any]:
        task = self.task_for(username, tracking_id)
        response = self.call(
            "POST",
            f"/api/v1/tasks/{task['id']}/complete",
            token=self.login(username),
            json={"data": data},
        )
        assert response.status_code == expect, response.get_json()
        return task

    def reply(
        self, tracking_id: str, secret: str, expect: int = 201, **data: Any
    ) -> dict[str, Any]:
        response = self.call(
            "POST", f"/api/v1/reports/{tracking_id}/replies", json={"secret": secret, **data}
        )
        assert response.status_code == expect, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body


def ensure_user(
    factory: Any, username: str, roles: list[tuple[str, str | None, str | None]]
) -> int:
    """A staff user with the demo password and `roles` (users outlive clean_slate: made once,
    then reused); returns its id."""
    from sqlalchemy import select

    from engine.models import User
    from engine.services import auth

    with factory() as s, s.begin():
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = auth.create_user(
                s, username=username, full_name=username, password=DEMO_PASSWORD, roles=roles
            )
        return int(user.id)


def deploy_sop(factory: Any, code: str, xml: bytes, key: str | None = None) -> Any:
    """Deploy `xml` as the next version of instansi `code`'s SOP (key `sop-<code>` unless
    given) through the service, linted like any deployment; returns the ProcessDefinition."""
    from sqlalchemy import select

    from engine.models import Instansi
    from engine.services import definitions

    with factory() as s, s.begin():
        instansi = s.scalar(select(Instansi).where(Instansi.code == code))
        assert instansi is not None, code
        return definitions.deploy(
            s, key=key or f"sop-{code}", kind="sop", instansi_id=instansi.id, xml=xml
        )


def sop_instance(factory: Any, tracking_id: str) -> Any:
    """The report's newest SOP (child) instance, detached from its session."""
    from sqlalchemy import select

    from engine.models import ProcessInstance, Report

    with factory() as s:
        found = s.scalar(
            select(ProcessInstance)
            .join(Report, Report.id == ProcessInstance.report_id)
            .where(Report.tracking_id == tracking_id, ProcessInstance.parent_id.is_not(None))
            .order_by(ProcessInstance.id.desc())
            .limit(1)
        )
        assert found is not None, tracking_id
        s.expunge(found)
        return found
