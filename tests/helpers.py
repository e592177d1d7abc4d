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
