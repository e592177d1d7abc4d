"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from tests.helpers import problem_of

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


def test_healthz_and_readyz_on_a_current_database(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ready"


def test_readyz_503_when_migrations_are_not_current(new_database: Any, make_app: Any) -> None:
    app = make_app(new_database("lapor_unready"), CHECK_MIGRATIONS=False)
    body = problem_of(app.test_client().get("/readyz"), 503)
    assert body["code"] == "migrations_pending"
    assert "lapor db upgrade" in body["detail"]
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_503_when_the_database_does_not_answer(make_app: Any) -> None:
    # a loopback port nobody listens on (port 1 is privileged and unused)
    app = make_app(UNREACHABLE, CHECK_MIGRATIONS=False)
    body = problem_of(app.test_client().get("/readyz"), 503)
    assert body["code"] == "database_unreachable"
