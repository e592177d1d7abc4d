"""Rate limits on public filing and staff login (Flask-Limiter): one budget per client address
shared by the API and the web form, a 429 in the caller's language and format, and counters in a
real redis-server that several processes share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from api import limits
from engine.seed.loader import DEMO_PASSWORD
from tests.helpers import REPORT, problem_of
from tests.redis_server import RedisServer

LOGIN = {"username": "nobody", "password": "wrong password"}


def limited_app(make_app: Any, database_url: str, **overrides: Any) -> Flask:
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}
    app: Flask = make_app(database_url, **settings, **overrides)
    return app


def test_the_fourth_login_in_a_minute_is_refused_with_429_and_retry_after(
    make_app: Any, database_url: str
) -> None:
    client = limited_app(make_app, database_url).test_client()
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json=LOGIN).status_code == 401
    refused = client.post("/api/v1/auth/login", json=LOGIN)
    body = problem_of(refused, 429)
    assert body["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    # another client address has its own budget
    other = client.post("/api/v1/auth/login", json=LOGIN, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401


def test_api_and_web_form_share_one_filing_budget_and_reading_is_not_limited(
    make_app: Any, database_url: str
) -> None:
    client = limited_app(make_app, database_url, RATELIMIT_FILING="2 per hour").test_client()
    assert client.post("/api/v1/reports", json={}).status_code == 422
    assert client.post("/lapor", data={}).status_code < 429
    problem_of(client.post("/api/v1/reports", json={}), 429)
    page = client.post("/lapor?lang=en", data={})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert "Too many requests from your address" in page.get_data(as_text=True)
    for _ in range(3):  # GETs of the same paths do not count
        assert client.get("/lapor").status_code == 200


def test_an_app_filing_with_its_api_key_is_not_counted(make_app: Any, database_url: str) -> None:
    app = limited_app(make_app, database_url, RATELIMIT_FILING="1 per hour")
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "sleman", "password": DEMO_PASSWORD}
    ).get_json()["token"]
    made = client.post(
        "/api/v1/api-keys",
        json={"name": "SMS 1708", "instansi": "34.04", "permissions": ["reports:write"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    key = made.get_json()["key"]
    for _ in range(3):
        filed = client.post("/api/v1/reports", json=REPORT, headers={"X-API-Key": key})
        assert filed.status_code == 201, filed.get_json()
    wrong = {"X-API-Key": "lapork_" + "x" * 40}
    assert client.post("/api/v1/reports", json=REPORT, headers=wrong).status_code == 401
    problem_of(client.post("/api/v1/reports", json=REPORT, headers=wrong), 429)


def test_sso_logins_share_the_login_budget(make_app: Any, database_url: str) -> None:
    client = limited_app(make_app, database_url).test_client()
    client.post("/login", data={})
    client.get("/masuk/sso/34.04")  # no provider configured: refused, but counted
    client.get("/masuk/sso/callback")
    assert client.get("/masuk/sso/34.04").status_code == 429


def test_the_refusal_page_is_in_indonesian_by_default(make_app: Any, database_url: str) -> None:
    client = limited_app(make_app, database_url).test_client()
    for _ in range(3):
        client.post("/login", data={})
    page = client.post("/login", data={})
    assert page.status_code == 429
    assert "Terlalu banyak permintaan dari alamat Anda" in page.get_data(as_text=True)


def test_processes_sharing_a_redis_server_share_the_budget_and_survive_its_outage(
    make_app: Any, database_url: str, tmp_path: Path
) -> None:
    with RedisServer(tmp_path) as server:
        first, second = (
            limited_app(make_app, database_url, RATELIMIT_STORAGE_URI=server.url).test_client()
            for _ in range(2)
        )
        assert first.post("/api/v1/auth/login", json=LOGIN).status_code == 401
        assert second.post("/api/v1/auth/login", json=LOGIN).status_code == 401
        assert first.post("/api/v1/auth/login", json=LOGIN).status_code == 401
        problem_of(second.post("/api/v1/auth/login", json=LOGIN), 429)
        server.stop()
        # Redis down: the limiter falls back to counting in memory, logins still answer.
        assert first.post("/api/v1/auth/login", json=LOGIN).status_code in {401, 429}
        assert first.get("/healthz").status_code == 200


def test_a_bad_storage_or_limit_setting_stops_the_app_naming_the_variable(
    make_app: Any, database_url: str
) -> None:
    from api.config import ConfigError

    with pytest.raises(ConfigError, match="LAPOR_RATELIMIT_STORAGE_URI"):
        make_app(database_url, RATELIMIT_STORAGE_URI="mongodb://x")
    with pytest.raises(ConfigError, match="LAPOR_RATELIMIT_LOGIN"):
        make_app(database_url, RATELIMIT_LOGIN="ten a minute")


def test_every_limited_route_exists_in_the_url_map(make_app: Any, database_url: str) -> None:
    app = limited_app(make_app, database_url)
    routes = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods or ()}
    assert set(limits.LIMITED) <= routes
