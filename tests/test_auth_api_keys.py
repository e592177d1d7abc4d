"""API keys of integrated agency apps: made by the instansi's admin, shown once and stored
hashed; a key sees its own instansi's reports and tasks only, is refused what its permissions
do not allow and every endpoint not open to keys, stops at once when revoked, and records when
it was last used.

The clock is pinned and moved (no sleeping); each API call runs on a brand-new app.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, HumanTask
from engine.models.users import ApiKey
from tests.helpers import Api, problem_of

T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
KEYS = "/api/v1/api-keys"
TO_SLEMAN = {"outcome": "forward", "target_instansi": "34.04"}
TO_JOGJA = {"outcome": "forward", "target_instansi": "34.71"}


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    clock.set_clock(T0)
    return Api(fresh_client)


def make_key(api: Api, admin: str, expect: int = 201, **body: Any) -> dict[str, Any]:
    payload = {"name": "SIMPEL Sleman", "instansi": "34.04", "permissions": ["reports:read"]}
    response = api.call("POST", KEYS, token=api.login(admin), json={**payload, **body})
    if expect >= 400:
        return problem_of(response, expect)
    assert response.status_code == expect, response.get_json()
    return dict(response.get_json())


def with_key(api: Api, method: str, url: str, key: str, header: str = "bearer", **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    with api.fresh() as client:
        return client.open(url, method=method, headers=headers, **kw)


def listed(api: Api, admin: str = "sleman") -> list[dict[str, Any]]:
    response = api.call("GET", KEYS, token=api.login(admin))
    assert response.status_code == 200, response.get_json()
    return list(response.get_json())


def test_a_key_reads_its_own_instansi_reports_only(api: Api, factory: Any) -> None:
    ours, theirs = api.file()["tracking_id"], api.file()["tracking_id"]
    api.complete("nasional", ours, TO_SLEMAN)
    api.complete("nasional", theirs, TO_JOGJA)
    made = make_key(api, "sleman", permissions=["reports:read", "tasks:read"])
    key = made["key"]
    assert key.startswith(made["prefix"] + "_") and made["instansi"] == "34.04"

    attachments = "/api/v1/reports/{}/attachments"
    for header in ("bearer", "x-api-key"):  # either header makes the caller staff, not pelapor
        assert with_key(api, "GET", attachments.format(ours), key, header).get_json() == []
        problem_of(with_key(api, "GET", attachments.format(theirs), key, header), 404)

    tasks = with_key(api, "GET", "/api/v1/tasks", key, header="x-api-key").get_json()
    seen = {
        with_key(api, "GET", f"/api/v1/tasks/{t['id']}", key).get_json()["report"]["tracking_id"]
        for t in tasks
    }
    assert seen == {ours}
    with factory() as s:
        jogja_task = s.scalar(
            select(HumanTask.id)
            .where(HumanTask.status == "open")
            .where(HumanTask.instansi_id != tasks[0]["instansi_id"])
        )
    assert jogja_task is not None
    problem_of(with_key(api, "GET", f"/api/v1/tasks/{jogja_task}", key), 404)


def test_a_key_is_refused_what_its_permissions_do_not_allow(api: Api, factory: Any) -> None:
    ours = api.file()["tracking_id"]
    api.complete("nasional", ours, TO_SLEMAN)
    reader = make_key(api, "sleman", permissions=["tasks:read"])["key"]
    (task,) = with_key(api, "GET", "/api/v1/tasks", reader).get_json()

    lacking = problem_of(with_key(api, "POST", f"/api/v1/tasks/{task['id']}/claim", reader), 403)
    assert lacking["code"] == "missing_permission" and "tasks:write" in lacking["detail"]
    problem_of(with_key(api, "GET", f"/api/v1/reports/{ours}/attachments", reader), 403)
    # endpoints not open to keys at all: staff and key administration
    closed = with_key(api, "GET", "/api/v1/admin/users", reader, query_string={"instansi": "34.04"})
    assert problem_of(closed, 403)["field"] == "Authorization"
    problem_of(with_key(api, "GET", KEYS, reader), 403)

    # a writer claims as its own service account, and the audit trail names that account
    writer = make_key(api, "sleman", name="Aplikasi tindak lanjut", permissions=["tasks:write"])
    claimed = with_key(api, "POST", f"/api/v1/tasks/{task['id']}/claim", writer["key"])
    assert claimed.status_code == 200, claimed.get_json()
    with factory() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.id == writer["id"]))
        assert row is not None and claimed.get_json()["assignee_id"] == row.user_id
        actors = s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "task.claimed"))
        assert list(actors) == [f"user:{row.user_id}"]


def test_a_revoked_key_stops_at_once(api: Api, factory: Any) -> None:
    made = make_key(api, "sleman", permissions=["tasks:read"])
    assert with_key(api, "GET", "/api/v1/tasks", made["key"]).status_code == 200
    revoked = api.call("DELETE", f"{KEYS}/{made['id']}", token=api.login("sleman"))
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    refused = problem_of(with_key(api, "GET", "/api/v1/tasks", made["key"]), 401)
    assert refused["field"] == "Authorization"
    problem_of(with_key(api, "GET", "/api/v1/tasks", made["key"], header="x-api-key"), 401)
    with factory() as s:
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("api_key.%")))
        )
    assert actions == ["api_key.created", "api_key.revoked"]


def test_last_used_is_recorded_at_most_once_a_minute(api: Api) -> None:
    made = make_key(api, "sleman", permissions=["tasks:read"])
    assert made["last_used_at"] is None
    with_key(api, "GET", "/api/v1/tasks", made["key"])
    assert listed(api)[0]["last_used_at"] == "2026-02-02T02:00:00+00:00"
    clock.set_clock(T0 + timedelta(seconds=30))
    with_key(api, "GET", "/api/v1/tasks", made["key"])
    assert listed(api)[0]["last_used_at"] == "2026-02-02T02:00:00+00:00"
    clock.set_clock(T0 + timedelta(minutes=2))
    with_key(api, "GET", "/api/v1/tasks", made["key"])
    assert listed(api)[0]["last_used_at"] == "2026-02-02T02:02:00+00:00"


def test_the_key_is_shown_once_and_stored_hashed(api: Api, factory: Any) -> None:
    made = make_key(api, "sleman")
    (row,) = listed(api)
    assert "key" not in row and row["prefix"] == made["prefix"]
    assert row["permissions"] == ["reports:read"]
    with factory() as s:
        stored = s.scalar(select(ApiKey))
    assert stored is not None
    assert stored.key_hash == hashlib.sha256(made["key"].encode()).hexdigest()
    assert made["key"] not in {stored.key_hash, stored.prefix, stored.name}


def test_who_may_manage_keys(api: Api) -> None:
    body = {"name": "x", "instansi": "34.04", "permissions": ["tasks:read"]}
    problem_of(api.call("POST", KEYS, json=body), 401)
    assert make_key(api, "sleman.pu", 403)["field"] == "role"  # a unit officer
    assert make_key(api, "sleman", 403, instansi="34.71")["field"] == "instansi"
    assert make_key(api, "sleman", 422, permissions=["everything"])["field"].startswith(
        "permissions"
    )
    assert make_key(api, "sleman", 422, permissions=[])["field"] == "permissions"
    jogja = make_key(api, "nasional", instansi="34.71")  # national admins: any instansi
    ours = make_key(api, "sleman")
    assert [k["id"] for k in listed(api)] == [ours["id"]]  # only its own instansi's keys
    assert [k["id"] for k in listed(api, "nasional")] == [ours["id"], jogja["id"]]
    problem_of(api.call("DELETE", f"{KEYS}/{jogja['id']}", token=api.login("sleman")), 404)
    assert (
        api.call("DELETE", f"{KEYS}/{ours['id']}", token=api.login("nasional")).status_code == 200
    )


def test_a_key_manages_its_own_instansi_webhooks(api: Api) -> None:
    key = make_key(api, "sleman", permissions=["webhooks:manage"])["key"]
    hook = {"instansi": "34.04", "url": "https://simpel.slemankab.go.id/lapor"}
    made = with_key(api, "POST", "/api/v1/admin/webhooks", key, json=hook)
    assert made.status_code == 201, made.get_json()
    other = with_key(api, "POST", "/api/v1/admin/webhooks", key, json={**hook, "instansi": "34.71"})
    problem_of(other, 403)
    # its admin role reaches no other administration
    policies = with_key(
        api, "GET", "/api/v1/admin/sla-policies", key, query_string={"instansi": "34.04"}
    )
    problem_of(policies, 403)
