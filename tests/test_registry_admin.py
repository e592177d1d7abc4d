"""The instansi registry changed by national admins: rename, merge (open reports re-routed with
their running processes, deadlines re-planned, staff and supervision moved, audited) and split
(the listed units and the reports at them go to a new instansi), and every refusal.

Each test builds its own throwaway instansi (codes `TST-...`), never the seeded demo ones, and
removes them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update

from engine import clock
from engine.models import (
    AuditEvent,
    HumanTask,
    Instansi,
    ProcessInstance,
    Report,
    RoleMembership,
    TimelineEntry,
    Unit,
    User,
)
from engine.services import registry
from sla.calendar_service import calendar_for
from sla.models import Deadline, SlaPolicy
from tests.conftest import DYNAMIC_TABLES
from tests.helpers import REPORT, Api, ensure_user, problem_of

FOLLOW_UP = {"tindak_lanjut": "Lubang jalan sudah ditambal pada 12 Maret 2026."}
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Yogyakarta
PREFIX = "TST-"
USERS = {  # username -> roles (role, instansi, unit)
    "tst.a.admin": [("admin_instansi", "TST-A", None)],
    "tst.a.pu": [("pejabat_penghubung", None, "TST-A-PU"), ("admin_unit", None, "TST-A-PU")],
    "tst.a.kes": [("pejabat_penghubung", None, "TST-A-KES")],
    "tst.b.admin": [("admin_instansi", "TST-B", None)],
}
# code -> (name, kind, supervisor, region, units)
REGISTRY: dict[str, tuple[str, str, str | None, str, list[str]]] = {
    "TST-PROV": ("Provinsi Uji", "provinsi", None, "34", []),
    "TST-A": ("Kabupaten Uji Lama", "kabupaten", "TST-PROV", "34.04", ["TST-A-PU", "TST-A-KES"]),
    "TST-B": ("Kabupaten Uji Baru", "kabupaten", "TST-PROV", "34.04", ["TST-B-PU"]),
    "TST-A-DESA": ("Badan Uji di bawah A", "lembaga", "TST-A", "34.04", []),
    "TST-OLD": ("Instansi Uji Nonaktif", "lembaga", None, "34", []),
}


def _forget_test_registry(engine: Engine) -> None:
    from engine.db import Base

    with engine.begin() as conn:
        for name in DYNAMIC_TABLES:
            conn.execute(delete(Base.metadata.tables[name]))
        users = select(User.id).where(User.username.like("tst.%"))
        instansi = select(Instansi.id).where(Instansi.code.like(f"{PREFIX}%"))
        conn.execute(delete(RoleMembership).where(RoleMembership.user_id.in_(users)))
        conn.execute(delete(RoleMembership).where(RoleMembership.instansi_id.in_(instansi)))
        conn.execute(delete(User).where(User.username.like("tst.%")))
        conn.execute(delete(Unit).where(Unit.instansi_id.in_(instansi)))
        conn.execute(update(Instansi).where(Instansi.id.in_(instansi)).values(supervisor_id=None))
        conn.execute(delete(Instansi).where(Instansi.code.like(f"{PREFIX}%")))


def build_world(db_engine: Engine, factory: Any) -> Iterator[dict[str, int]]:
    """The throwaway registry and its staff (ids by code), removed afterwards; TST-B has a
    shorter SLA (an instansi's policy is capped by the national one)."""
    _forget_test_registry(db_engine)
    ids: dict[str, int] = {}
    with factory() as s, s.begin():
        for code, (name, kind, boss, region, units) in REGISTRY.items():
            row = Instansi(
                code=code,
                name=name,
                kind=kind,
                supervisor_id=ids[boss] if boss else None,
                region_code=region,
                active=code != "TST-OLD",
            )
            s.add(row)
            s.flush()
            ids[code] = row.id
            for unit in units:
                s.add(Unit(instansi_id=row.id, code=unit, name=f"Unit {unit}"))
        for milestone, days in (("disposition", 1), ("follow-up", 3)):
            s.add(
                SlaPolicy(
                    instansi_id=ids["TST-B"],
                    milestone=milestone,
                    duration=days,
                    unit="wd",
                    reminder=1,
                    escalation_every=2,
                    created_at=clock.now(),
                )
            )
    for username, roles in USERS.items():
        ensure_user(factory, username, roles)
    try:
        yield ids
    finally:
        _forget_test_registry(db_engine)


@pytest.fixture()
def world(db_engine: Engine, factory: Any) -> Iterator[dict[str, int]]:
    clock.set_clock(START)
    yield from build_world(db_engine, factory)


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


def filed_at(api: Api, step: str, unit: str = "TST-A-PU") -> str:
    """A report to TST-A left at `step`: verification, disposition or follow-up."""
    tracking = str(api.file(**{**REPORT, "target_instansi": "TST-A"})["tracking_id"])
    if step == "verification":
        return tracking
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "TST-A"})
    if step == "disposition":
        return tracking
    api.complete("tst.a.admin", tracking, {"outcome": "disposisi", "target_unit": unit})
    return tracking


def post(api: Api, path: str, body: dict[str, Any], user: str = "nasional") -> Any:
    return api.call("POST", f"/api/v1/admin/instansi/{path}", token=api.login(user), json=body)


def open_task(s: Any, tracking: str) -> HumanTask:
    found = s.scalar(
        select(HumanTask)
        .join(Report, Report.id == HumanTask.report_id)
        .where(Report.tracking_id == tracking, HumanTask.status == "open")
    )
    assert found is not None, tracking
    return found


def test_merge_moves_open_reports_staff_units_and_supervision(
    api: Api, factory: Any, world: dict[str, int]
) -> None:
    waiting = filed_at(api, "verification")
    at_admin = filed_at(api, "disposition")
    at_unit = filed_at(api, "follow-up")
    with factory() as s:
        before = {t: open_task(s, t) for t in (at_admin, at_unit)}
        instances = {t: before[t].instance_id for t in before}

    merged = post(api, "TST-A/merge", {"into": "TST-B"})
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json() == {
        "action": "merged",
        "code": "TST-A",
        "name": "Kabupaten Uji Lama",
        "active": False,
        "target": "TST-B",
        "reports": 3,
        "tasks": 2,
        "units": 2,
        "users": 3,
        "supervised": 1,
    }

    # the target's admin is offered the disposition; the unit's officer keeps the follow-up
    assert api.task_for("tst.b.admin", at_admin)["bpmn_id"] == "receive"
    assert api.task_for("tst.a.pu", at_unit)["bpmn_id"] == "follow_up"
    with factory() as s:
        b = s.get_one(Instansi, world["TST-B"])
        cal = calendar_for(s, b)
        for tracking, days in ((at_admin, 1), (at_unit, 3)):
            task = open_task(s, tracking)
            assert task.id == before[tracking].id and task.instansi_id == b.id
            # the same running instance, now held by the target
            instance = s.get_one(ProcessInstance, instances[tracking])
            assert instance.status == "running" and instance.instansi_id == b.id
            # re-planned with the target's policy, from the task's start
            expected = cal.add_working_days(task.created_at, days).due_at
            assert task.due_at == expected
            due = s.scalars(
                select(Deadline.due_at).where(
                    Deadline.task_id == task.id,
                    Deadline.kind == "due",
                    Deadline.status == "pending",
                )
            ).all()
            assert due == [expected]
        for tracking in (waiting, at_admin, at_unit):
            report = s.scalar(select(Report).where(Report.tracking_id == tracking))
            assert report is not None
            assert report.current_instansi_id in (None, b.id) and report.target_instansi_id == b.id
            entry = s.scalar(
                select(TimelineEntry).where(
                    TimelineEntry.report_id == report.id,
                    TimelineEntry.kind == "instansi_restructured",
                )
            )
            assert entry is not None and entry.public is False
            assert entry.data is not None
            assert entry.data["from_instansi"] == "TST-A" and entry.data["instansi"] == "TST-B"
        a = s.get_one(Instansi, world["TST-A"])
        assert a.active is False
        assert s.get_one(Instansi, world["TST-A-DESA"]).supervisor_id == b.id
        assert {u.code for u in s.scalars(select(Unit).where(Unit.instansi_id == b.id))} == {
            "TST-A-PU",
            "TST-A-KES",
            "TST-B-PU",
        }
        assert not s.scalars(select(RoleMembership).where(RoleMembership.instansi_id == a.id)).all()
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "instansi.merged"))
        assert event is not None and event.data is not None
        assert event.data["counts"] == {
            "reports": 3,
            "tasks": 2,
            "units": 2,
            "users": 3,
            "supervised": 1,
        }
        assert event.data["before"]["active"] is True and event.data["after"]["active"] is False
    with factory() as s:
        found = registry.search_instansi(s, query="tst-a")
    assert [i.code for i in found] == ["TST-A-DESA"]  # no longer TST-A

    # the moved work goes on: unit codes still work, and the follow-up completes
    api.complete("tst.b.admin", at_admin, {"outcome": "disposisi", "target_unit": "TST-A-PU"})
    assert api.task_for("tst.a.pu", at_admin)["bpmn_id"] == "follow_up"
    api.complete("tst.a.pu", at_unit, FOLLOW_UP)
    assert api.report(at_unit)["status"] == "followed_up"


def test_split_moves_the_listed_units_and_the_reports_at_them(
    api: Api, factory: Any, world: dict[str, int]
) -> None:
    at_kes = filed_at(api, "follow-up", unit="TST-A-KES")
    at_pu = filed_at(api, "follow-up")
    at_admin = filed_at(api, "disposition")

    body = {"code": "TST-C", "name": "Dinas Kesehatan Uji", "units": ["TST-A-KES"]}
    split = post(api, "TST-A/split", body)
    assert split.status_code == 201, split.get_json()
    assert split.get_json() == {
        "action": "split",
        "code": "TST-A",
        "name": "Kabupaten Uji Lama",
        "active": True,
        "target": "TST-C",
        "reports": 1,
        "tasks": 1,
        "units": 1,
        "users": 1,
        "supervised": 0,
    }
    assert api.task_for("tst.a.kes", at_kes)["bpmn_id"] == "follow_up"
    with factory() as s:
        new = s.scalar(select(Instansi).where(Instansi.code == "TST-C"))
        assert new is not None and new.active
        assert (new.kind, new.supervisor_id, new.region_code) == (
            "kabupaten",
            world["TST-PROV"],
            "34.04",
        )
        assert s.scalar(select(Unit.instansi_id).where(Unit.code == "TST-A-KES")) == new.id
        assert s.scalar(select(Unit.instansi_id).where(Unit.code == "TST-A-PU")) == world["TST-A"]
        assert open_task(s, at_kes).instansi_id == new.id
        for tracking in (at_pu, at_admin):
            assert open_task(s, tracking).instansi_id == world["TST-A"]
        moved = s.scalar(select(Report).where(Report.tracking_id == at_kes))
        assert moved is not None and moved.current_instansi_id == new.id
        kes = s.scalar(
            select(RoleMembership)
            .join(User)
            .where(User.username == "tst.a.kes", RoleMembership.role == "pejabat_penghubung")
        )
        assert kes is not None and kes.instansi_id == new.id
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "instansi.split"))
        assert event is not None and event.data is not None
        assert event.data["after"] == {"units_of": {"TST-A-KES": "TST-C"}}
        assert event.data["counts"]["reports"] == 1
    api.complete("tst.a.kes", at_kes, FOLLOW_UP)
    assert api.report(at_kes)["status"] == "followed_up"


def test_rename_keeps_the_code_and_is_audited(
    api: Api, factory: Any, world: dict[str, int]
) -> None:
    token = api.login("nasional")
    renamed = api.call(
        "PATCH", "/api/v1/admin/instansi/TST-A", token=token, json={"name": "Kabupaten Uji Raya"}
    )
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["name"] == "Kabupaten Uji Raya"
    shown = api.call("GET", "/api/v1/admin/instansi/TST-A", token=token).get_json()
    assert shown["name"] == "Kabupaten Uji Raya" and shown["supervisor_code"] == "TST-PROV"
    assert [u["code"] for u in shown["units"]] == ["TST-A-KES", "TST-A-PU"]
    assert shown["supervised"] == ["TST-A-DESA"] and shown["open_reports"] == 0
    same = api.call(
        "PATCH", "/api/v1/admin/instansi/TST-A", token=token, json={"name": "Kabupaten Uji Raya"}
    )
    assert problem_of(same, 422)["field"] == "name"
    with factory() as s:
        data = s.scalar(select(AuditEvent.data).where(AuditEvent.action == "instansi.renamed"))
    assert data == {
        "code": "TST-A",
        "before": {"name": "Kabupaten Uji Lama"},
        "after": {"name": "Kabupaten Uji Raya"},
    }


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("TST-NONE/merge", {"into": "TST-B"}, 404, "instansi"),
        ("TST-A/merge", {"into": "TST-NONE"}, 404, "into"),
        ("TST-A/merge", {"into": "TST-A"}, 409, "into"),
        ("TST-A/merge", {"into": "TST-OLD"}, 409, "into"),
        ("TST-OLD/merge", {"into": "TST-B"}, 409, "instansi"),
        ("TST-A/merge", {"into": "TST-A-DESA"}, 409, "into"),  # a cycle in supervision
        ("TST-A/merge", {}, 422, "into"),
        ("TST-A/split", {"code": "TST-B", "name": "Baru", "units": ["TST-A-PU"]}, 409, "code"),
        ("TST-A/split", {"code": "TST-C", "name": "Baru", "units": ["TST-NO"]}, 404, "units"),
        ("TST-A/split", {"code": "TST-C", "name": "Baru", "units": ["TST-B-PU"]}, 422, "units"),
        ("TST-A/split", {"code": "TST-C", "name": "Baru", "units": []}, 422, "units"),
        ("TST-A/split", {"code": "TST C", "name": "Baru", "units": ["TST-A-PU"]}, 422, "code"),
        ("TST-A/split", {"code": "TST-C", "name": "B", "units": ["TST-A-PU"]}, 422, "name"),
        ("TST-OLD/split", {"code": "TST-C", "name": "Baru", "units": ["X"]}, 409, "instansi"),
        ("TST-NONE/split", {"code": "TST-C", "name": "Baru", "units": ["X"]}, 404, "instansi"),
    ],
)
def test_refusals_name_the_field(
    api: Api,
    factory: Any,
    world: dict[str, int],
    path: str,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    assert problem_of(post(api, path, body), status)["field"] == field
    with factory() as s:
        assert s.get_one(Instansi, world["TST-A"]).active is True
        assert s.scalar(select(Instansi.id).where(Instansi.code == "TST-C")) is None
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action.like("instansi.%"))) is None


def test_only_national_admins_change_the_registry(
    api: Api, factory: Any, world: dict[str, int]
) -> None:
    for user in ("sleman", "tst.b.admin"):
        assert problem_of(post(api, "TST-A/merge", {"into": "TST-B"}, user), 403)
        renamed = api.call(
            "PATCH",
            "/api/v1/admin/instansi/TST-A",
            token=api.login(user),
            json={"name": "Tidak Boleh"},
        )
        assert problem_of(renamed, 403)["field"] == "role"
        split = {"code": "TST-C", "name": "Baru", "units": ["TST-A-PU"]}
        assert problem_of(post(api, "TST-A/split", split, user), 403)
    assert problem_of(
        api.call("POST", "/api/v1/admin/instansi/TST-A/merge", json={"into": "TST-B"}), 401
    )
    with factory() as s:
        assert s.get_one(Instansi, world["TST-A"]).name == "Kabupaten Uji Lama"


def test_an_escalated_task_moved_by_a_merge_starts_its_clock_again(
    api: Api, factory: Any, world: dict[str, int]
) -> None:
    """The pending next-level escalation of the old place is cancelled: the task is offered
    anew at the target with one fresh due deadline, so it cannot escalate twice."""
    from datetime import timedelta

    from sla.sweep import sweep

    with factory() as s, s.begin():  # the chain goes on above the test province
        diy = s.scalar(select(Instansi.id).where(Instansi.code == "34"))
        s.execute(
            update(Instansi).where(Instansi.id == world["TST-PROV"]).values(supervisor_id=diy)
        )
    tracking = filed_at(api, "disposition")
    with factory() as s:
        task_id = open_task(s, tracking).id
    clock.set_clock(START + timedelta(days=3, hours=1))  # Thursday: disposition is overdue
    sweep(factory, scheduler="t")
    with factory() as s:
        pending = set(
            s.scalars(
                select(Deadline.kind).where(
                    Deadline.task_id == task_id, Deadline.status == "pending"
                )
            )
        )
    assert "escalation" in pending  # escalated once, the next level waiting

    assert post(api, "TST-A/merge", {"into": "TST-B"}).status_code == 200
    with factory() as s:
        kinds = sorted(
            s.scalars(
                select(Deadline.kind).where(
                    Deadline.task_id == task_id, Deadline.status == "pending"
                )
            )
        )
        task = s.get(HumanTask, task_id)
        assert task is not None and task.instansi_id == world["TST-B"]
    assert "escalation" not in kinds and kinds.count("due") == 1
