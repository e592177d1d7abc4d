"""Staff administration: instansi admins manage their own staff and units, national admins
everyone; deactivation ends sessions and releases claimed tasks; delegation hands claimed tasks
to a colleague who may do them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, User
from tests.helpers import Api, ensure_user, problem_of

PASSWORD = "rahasia-panjang-2026"
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


def create(api: Api, admin: str, expect: int, **body: Any) -> dict[str, Any]:
    response = api.call("POST", "/api/v1/admin/users", token=api.login(admin), json=body)
    if expect >= 400:
        return problem_of(response, expect)
    assert response.status_code == expect, response.get_json()
    return dict(response.get_json())


def officer(username: str, unit: str = "34.04-DPUPKP") -> dict[str, Any]:
    return {
        "username": username,
        "full_name": f"Petugas {username}",
        "password": PASSWORD,
        "roles": [{"role": "pejabat_penghubung", "instansi_code": "34.04", "unit_code": unit}],
    }


def test_instansi_admin_creates_lists_and_deactivates_its_staff(api: Api, factory: Any) -> None:
    made = create(api, "sleman", 201, **officer("petugas.satu"))
    assert made["roles"] == [
        {"role": "pejabat_penghubung", "instansi_code": "34.04", "unit_code": "34.04-DPUPKP"}
    ]
    listed = api.call(
        "GET", "/api/v1/admin/users", token=api.login("sleman"), query={"instansi": "34.04"}
    ).get_json()
    assert {"sleman", "sleman.pu", "petugas.satu"} <= {u["username"] for u in listed}

    # the new officer signs in and claims a task; deactivation ends that and frees the task
    login = api.call(
        "POST", "/api/v1/auth/login", json={"username": "petugas.satu", "password": PASSWORD}
    )
    token = login.get_json()["token"]
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    task_id = api.task_for("sleman.pu", tracking)["id"]
    assert api.call("POST", f"/api/v1/tasks/{task_id}/claim", token=token).status_code == 200

    closed = api.call(
        "POST", f"/api/v1/admin/users/{made['id']}/deactivate", token=api.login("sleman")
    )
    assert closed.status_code == 200 and closed.get_json()["active"] is False
    assert problem_of(api.call("GET", "/api/v1/tasks", token=token), 401)
    with factory() as s:
        task = s.get(HumanTask, task_id)
        assert task is not None and task.assignee_id is None
        action = s.scalar(select(AuditEvent.data).where(AuditEvent.action == "user.deactivated"))
    assert action is not None and action["released_tasks"] == 1


def test_what_an_instansi_admin_may_not_do(api: Api, factory: Any) -> None:
    other = officer("petugas.badung")
    other["roles"] = [{"role": "admin_instansi", "instansi_code": "51.03"}]
    assert create(api, "sleman", 403, **other)["field"] == "roles"
    national = officer("petugas.nasional")
    national["roles"] = [{"role": "admin_nasional"}]
    assert create(api, "sleman", 403, **national)["field"] == "roles"
    no_unit = officer("petugas.tanpa.unit")
    no_unit["roles"] = [{"role": "pejabat_penghubung", "instansi_code": "34.04"}]
    assert create(api, "sleman", 422, **no_unit)["field"] == "roles"
    assert (
        create(api, "sleman", 422, **officer("petugas.x", unit="51.03-DINKES"))["field"] == "roles"
    )
    assert create(api, "sleman", 409, **officer("sleman.pu"))["field"] == "username"
    assert create(api, "sleman", 422, **{**officer("pendek"), "password": "short"})["field"] == (
        "password"
    )
    assert create(api, "sleman", 422, **{**officer("Huruf Besar")})["field"] == "username"
    assert create(api, "sleman.pu", 403, **officer("petugas.y"))["field"] == "role"
    # Badung's admin cannot see or deactivate Sleman's staff: it looks missing
    sleman_pu = ensure_user(factory, "sleman.pu", [])
    response = api.call(
        "POST", f"/api/v1/admin/users/{sleman_pu}/deactivate", token=api.login("badung")
    )
    assert problem_of(response, 404)["field"] == "user_id"
    listing = api.call(
        "GET", "/api/v1/admin/users", token=api.login("badung"), query={"instansi": "34.04"}
    )
    assert problem_of(listing, 403)["field"] == "instansi"
    with factory() as s:
        assert s.scalar(select(User.id).where(User.username == "petugas.badung")) is None


def test_delegation_hands_claimed_tasks_to_a_colleague_who_may_do_them(
    api: Api, factory: Any
) -> None:
    colleague = create(api, "sleman", 201, **officer("petugas.pengganti"))
    trackings = [api.file()["tracking_id"] for _ in range(2)]
    for tracking in trackings:
        api.complete("nasional", tracking, FORWARD)
        api.complete("sleman", tracking, DISPOSE)
        task_id = api.task_for("sleman.pu", tracking)["id"]
        claim = api.call("POST", f"/api/v1/tasks/{task_id}/claim", token=api.login("sleman.pu"))
        assert claim.status_code == 200
    sleman_pu = ensure_user(factory, "sleman.pu", [])

    own = api.call(
        "POST",
        f"/api/v1/admin/users/{sleman_pu}/delegate",
        token=api.login("sleman.pu"),
        json={"to_user_id": colleague["id"]},
    )
    assert own.status_code == 200 and own.get_json() == {"moved": 2, "kept": 0}
    with factory() as s:
        assignees = set(s.scalars(select(HumanTask.assignee_id).where(HumanTask.status == "open")))
    assert assignees == {colleague["id"]}

    # a colleague without the role there gets nothing: the tasks stay with their holder
    sleman = ensure_user(factory, "sleman", [])
    back = api.call(
        "POST",
        f"/api/v1/admin/users/{colleague['id']}/delegate",
        token=api.login("sleman"),
        json={"to_user_id": sleman},
    )
    assert back.get_json() == {"moved": 0, "kept": 2}
    bad = api.call(
        "POST",
        f"/api/v1/admin/users/{colleague['id']}/delegate",
        token=api.login("sleman"),
        json={"to_user_id": colleague["id"]},
    )
    assert problem_of(bad, 404)["field"] == "to_user_id"


def test_units_are_created_inside_the_instansi(api: Api) -> None:
    token = api.login("sleman")
    made = api.call(
        "POST",
        "/api/v1/admin/units",
        token=token,
        json={"instansi": "34.04", "code": "34.04-DINSOS", "name": "Dinas Sosial"},
    )
    assert made.status_code == 201 and made.get_json()["code"] == "34.04-DINSOS"
    again = api.call(
        "POST",
        "/api/v1/admin/units",
        token=token,
        json={"instansi": "34.04", "code": "34.04-DINSOS", "name": "Dinas Sosial"},
    )
    assert problem_of(again, 409)["field"] == "code"
    wrong = api.call(
        "POST",
        "/api/v1/admin/units",
        token=token,
        json={"instansi": "34.04", "code": "51.03-X", "name": "Salah"},
    )
    assert problem_of(wrong, 422)["field"] == "code"
