"""Supervisor interventions on escalated reports: remind, new deadline, reassign, take over.

Set-up as in test_escalation: early February 2026 has no holidays, so due moments are plain
weekday counts ending 23:59:59 WIB (16:59:59 UTC). A disposition task of Kabupaten Sleman
(34.04) overdue escalates to the DI Yogyakarta province (34); a unit's follow-up task overdue
escalates to Sleman itself first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from engine import clock, status
from engine.db import make_session_factory
from engine.models import (
    AuditEvent,
    HumanTask,
    Instansi,
    ProcessInstance,
    Report,
    TimelineEntry,
    Unit,
    User,
)
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from sla.models import Alert, Deadline, Escalation, OutboxMessage
from sla.sweep import sweep
from tests.helpers import Api, problem_of

WIB_EOD = "T16:59:59+00:00"
PEOPLE = (  # username, email, (role, instansi, unit)
    ("sv.diy", "sv.diy@lapor.test", ("supervisor", "34", None)),
    ("sv.bali", None, ("supervisor", "51", None)),
    ("sv.sleman", "sv.sleman@lapor.test", ("admin_instansi", "34.04", None)),
    ("sv.dinkes", "sv.dinkes@lapor.test", ("pejabat_penghubung", None, "34.04-DINKES")),
    ("sv.kota", None, ("admin_instansi", "34.71", None)),
)
FOLLOW_UP = {"tindak_lanjut": "Lubang jalan sudah ditambal pada 12 Februari 2026."}


def at(text: str) -> None:
    clock.set_clock(datetime.fromisoformat(text))


@pytest.fixture(scope="module")
def people(db_engine: Engine) -> Iterator[dict[str, int]]:
    """The module's staff (removed afterwards, so other modules' alert counts stay put)."""
    factory = make_session_factory(db_engine)
    with factory() as s, s.begin():
        made = {
            name: auth.create_user(
                s,
                username=name,
                full_name=name,
                password=DEMO_PASSWORD,
                email=email,
                roles=[role],
            ).id
            for name, email, role in PEOPLE
        }
    yield made
    with factory() as s, s.begin():
        for user in s.scalars(select(User).where(User.username.in_(made))):
            s.delete(user)


@pytest.fixture()
def api(fresh_client: Any, people: dict[str, int]) -> Api:
    return Api(fresh_client)


def act(api: Api, user: str, tracking: str, action: str, body: Any = None) -> Any:
    url = f"/api/v1/reports/{tracking}/supervision"
    if action == "get":
        return api.call("GET", url, token=api.login(user))
    return api.call("POST", f"{url}/{action}", token=api.login(user), json=body)


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def forwarded(api: Api) -> str:
    at("2026-02-02T09:00:00+07:00")  # Monday
    tracking = api.file()["tracking_id"]
    at("2026-02-03T10:00:00+07:00")
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    return tracking


def disposition_escalated(api: Api, factory: Any) -> str:
    """Sleman's disposition (due Thursday 5 February) escalated to the province."""
    tracking = forwarded(api)
    at("2026-02-06T00:00:01+07:00")
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking) == [(1, "34")]
    return tracking


def follow_up_escalated(api: Api, factory: Any, *, claimed: bool = False) -> str:
    """DPUPKP's follow-up (due Tuesday 10 February) escalated to Sleman."""
    tracking = forwarded(api)
    at("2026-02-03T11:00:00+07:00")
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    if claimed:
        task = api.task_for("sleman.pu", tracking)
        token = api.login("sleman.pu")
        assert api.call("POST", f"/api/v1/tasks/{task['id']}/claim", token=token).status_code == 200
    at("2026-02-11T00:00:01+07:00")
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking) == [(1, "34.04")]
    return tracking


def escalations(factory: Any, tracking: str) -> list[tuple[int, str]]:
    with factory() as s:
        rows = s.execute(
            select(Escalation.level, Instansi.code)
            .join(Instansi, Instansi.id == Escalation.to_instansi_id)
            .join(Report, Report.id == Escalation.report_id)
            .where(Report.tracking_id == tracking)
            .order_by(Escalation.id)
        ).all()
    return [(level, code) for level, code in rows]


def notes(factory: Any, tracking: str) -> list[tuple[dict[str, Any], str]]:
    """(timeline data, audit actor) of each supervision action on the report."""
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        entries = s.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.report_id == report_id, TimelineEntry.kind == "supervision")
            .order_by(TimelineEntry.id)
        ).all()
        events = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.report_id == report_id, AuditEvent.action.like("supervision.%"))
            .order_by(AuditEvent.id)
        ).all()
        assert all(not e.public for e in entries)
        # the typed reason stays in the (non-public) timeline; audit payloads hold no free text
        assert [e.data for e in entries] == [
            e.data | {"reason": t.data["reason"]} for e, t in zip(events, entries, strict=True)
        ]
        assert [e.action for e in events] == [f"supervision.{e.data['action']}" for e in events]
        return [(t.data, e.actor) for e, t in zip(events, entries, strict=True)]


def code_of(factory: Any, model: Any, row_id: int | None) -> str | None:
    with factory() as s:
        return s.scalar(select(model.code).where(model.id == row_id)) if row_id else None


def sees(api: Api, user: str, tracking: str) -> bool:
    with api.fresh() as client:
        token = api.login(user)
        headers = {"Authorization": f"Bearer {token}"}
        for task in client.get("/api/v1/tasks", headers=headers).get_json():
            detail = client.get(f"/api/v1/tasks/{task['id']}", headers=headers).get_json()
            if detail["report"]["tracking_id"] == tracking:
                return True
    return False


def test_supervisor_sees_escalations_and_reminds(
    api: Api, factory: Any, people: dict[str, int]
) -> None:
    tracking = disposition_escalated(api, factory)
    view = ok(act(api, "sv.diy", tracking, "get"))
    assert [(e["level"], e["reason"], e["to_instansi"]["code"]) for e in view["escalations"]] == [
        (1, "overdue", "34")
    ]
    assert view["escalations"][0]["to_instansi"]["name"].endswith("Daerah Istimewa Yogyakarta")
    assert view["open_task"]["milestone"] == "disposition"

    at("2026-02-06T09:00:00+07:00")
    body = ok(act(api, "sv.diy", tracking, "remind", {"message": "Mohon ditelaah hari ini."}))
    assert body["action"] == "remind" and body["task"]["id"] == view["open_task"]["id"]
    with factory() as s:
        reminders = select(Alert).where(Alert.kind == "supervision_reminder")
        alerts = s.scalars(reminders.order_by(Alert.id)).all()
        alerted = {a.user_id for a in alerts}
        sleman = s.scalar(select(User.id).where(User.username == "sleman"))
        assert {sleman, people["sv.sleman"]} <= alerted and body["reminded"] == len(alerts)
        assert all("Mohon ditelaah hari ini." in a.body for a in alerts)
        sent = select(OutboxMessage).where(OutboxMessage.event_id.like("alert%"))
        mail = s.scalars(sent.order_by(OutboxMessage.id)).all()
        assert [(m.recipient, m.event_id) for m in mail] == [
            ("sv.sleman@lapor.test", f"alert{a.id}")
            for a in alerts
            if a.user_id == people["sv.sleman"]
        ]
    # once claimed, only the holder is reminded
    task_id = view["open_task"]["id"]
    token = api.login("sleman")
    assert api.call("POST", f"/api/v1/tasks/{task_id}/claim", token=token).status_code == 200
    assert ok(act(api, "sv.diy", tracking, "remind", {}))["reminded"] == 1
    with factory() as s:
        last = s.scalars(select(Alert).order_by(Alert.id.desc())).first()
        assert last is not None and last.user_id == sleman
    first, second = notes(factory, tracking)
    reminded = {"action": "remind", "instansi": "34", "reminded": body["reminded"]}
    assert first == (reminded | {"reason": "Mohon ditelaah hari ini."}, f"user:{people['sv.diy']}")
    assert second[0]["reason"] is None and second[0]["reminded"] == 1
    public = api.report(tracking)["timeline"]
    assert "supervision" not in {entry["kind"] for entry in public}


def test_only_the_supervising_chain_may_act(api: Api, factory: Any) -> None:
    tracking = forwarded(api)
    assert problem_of(act(api, "sv.diy", tracking, "get"), 404)["field"] == "tracking_id"
    at("2026-02-06T00:00:01+07:00")
    sweep(factory, scheduler="t")
    bodies = {
        "get": None,
        "remind": {},
        "deadline": {"working_days": 3, "reason": "Perlu waktu."},
        "reassign": {"instansi": "34.71", "reason": "Salah alamat."},
        "take-over": {"reason": "Diambil alih."},
    }
    for user in ("sv.bali", "sleman", "sleman.pu", "sv.dinkes"):
        for action, body in bodies.items():
            answer = problem_of(act(api, user, tracking, action, body), 404)
            assert answer["field"] == "tracking_id", (user, action)
    assert problem_of(act(api, "sv.diy", "ZZZZZZZZZZ", "get"), 404)["field"] == "tracking_id"
    assert problem_of(act(api, "sv.diy", "0" * 40, "remind", {}), 404)["field"] == "tracking_id"
    anonymous = api.call("POST", f"/api/v1/reports/{tracking}/supervision/remind", json={})
    assert problem_of(anonymous, 401)["field"] == "Authorization"
    assert ok(act(api, "nasional", tracking, "get"))["tracking_id"] == tracking
    assert notes(factory, tracking) == []

    # the follow-up task opened after disposition was never escalated: history only
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    ok(act(api, "sv.diy", tracking, "get"))
    refused = problem_of(act(api, "sv.diy", tracking, "remind", {}), 409)
    assert refused["field"] == "tracking_id" and "escalated" in refused["detail"]
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    assert problem_of(act(api, "nasional", tracking, "remind", {}), 409)["field"] == "tracking_id"


def test_bad_input_names_the_field(api: Api, factory: Any) -> None:
    tracking = disposition_escalated(api, factory)
    at("2026-02-06T10:00:00+07:00")
    cases: list[tuple[str, Any, int, str]] = [
        ("deadline", {}, 422, "reason"),
        ("deadline", {"reason": "x"}, 422, "working_days"),
        (
            "deadline",
            {"reason": "x", "working_days": 3, "due_at": "2026-02-20T10:00+07:00"},
            422,
            "working_days",
        ),
        ("deadline", {"reason": "x", "working_days": 0}, 422, "working_days"),
        ("deadline", {"reason": "x", "working_days": 61}, 422, "working_days"),
        ("deadline", {"reason": "x", "working_days": "3"}, 422, "working_days"),
        ("deadline", {"reason": "x", "due_at": "2026-02-20T10:00:00"}, 422, "due_at"),
        ("deadline", {"reason": "x", "due_at": "2026-02-05T10:00:00+07:00"}, 422, "due_at"),
        ("deadline", {"reason": "x", "due_at": "2026-06-30T10:00:00+07:00"}, 422, "due_at"),
        ("deadline", {"reason": "x", "due_at": "0001-01-01T00:00:00+07:00"}, 422, "due_at"),
        ("deadline", {"reason": "   ", "working_days": 3}, 422, "reason"),
        ("deadline", {"reason": "x" * 2001, "working_days": 3}, 422, "reason"),
        ("deadline", {"reason": "a\u0000b", "working_days": 3}, 422, "reason"),
        ("remind", {"message": "x" * 2001}, 422, "message"),
        ("remind", {"text": "hello"}, 422, "text"),
        ("reassign", {"reason": "x"}, 422, "unit"),
        ("reassign", {"reason": "x", "unit": "34.04-DINKES", "instansi": "34.71"}, 422, "unit"),
        ("reassign", {"reason": "x", "unit": "34.04-DINKES"}, 409, "unit"),
        ("reassign", {"reason": "x", "instansi": "NOPE"}, 422, "instansi"),
        ("reassign", {"reason": "x", "instansi": "34.04"}, 422, "instansi"),
        ("reassign", {"reason": "x", "instansi": "51.03"}, 403, "instansi"),
        ("take-over", {}, 422, "reason"),
        ("take-over", [], 422, None),
    ]
    for action, body, code, field in cases:
        answer = problem_of(act(api, "sv.diy", tracking, action, body), code)
        assert answer["field"] == field, (action, body, answer)
    assert notes(factory, tracking) == []


def test_new_deadline_moves_due_and_delays_escalation(
    api: Api, factory: Any, people: dict[str, int]
) -> None:
    tracking = disposition_escalated(api, factory)
    at("2026-02-06T10:00:00+07:00")  # Friday
    body = ok(act(api, "sv.diy", tracking, "deadline", {"working_days": 3, "reason": "Survei."}))
    due = "2026-02-11" + WIB_EOD  # Mon, Tue, Wed
    assert (body["due_at"], body["task"]["due_at"], body["level"]) == (due, due, 2)
    assert api.task_for("sleman", tracking)["due_at"] == due
    with factory() as s:
        pending = s.execute(
            select(Deadline.kind, Deadline.level, Deadline.due_at).where(
                Deadline.task_id == body["task"]["id"], Deadline.status == "pending"
            )
        ).all()
        assert [(kind, level, moment.isoformat()) for kind, level, moment in pending] == [
            ("due", 2, due)
        ]
    at("2026-02-11T23:59:58+07:00")  # the old level-2 moment (10 February) has passed
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking) == [(1, "34")]
    at("2026-02-12T00:00:01+07:00")
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking) == [(1, "34"), (2, "KEMENDAGRI")]

    explicit = {"due_at": "2026-02-13T12:00:00+07:00", "reason": "Tenggat terakhir."}
    body = ok(act(api, "sv.diy", tracking, "deadline", explicit))
    assert (body["due_at"], body["level"]) == ("2026-02-13T05:00:00+00:00", 3)
    (first, actor), (second, _) = notes(factory, tracking)
    assert actor == f"user:{people['sv.diy']}"
    assert first == {
        "action": "deadline",
        "instansi": "34",
        "reason": "Survei.",
        "due_at": due,
        "previous_due_at": "2026-02-05" + WIB_EOD,
        "level": 2,
    }
    assert second["previous_due_at"] == due and second["reason"] == "Tenggat terakhir."


def test_take_over_then_complete_through_the_task_api(
    api: Api, factory: Any, people: dict[str, int]
) -> None:
    tracking = follow_up_escalated(api, factory, claimed=True)
    body = ok(act(api, "sv.diy", tracking, "take-over", {"reason": "Dinas tidak merespons."}))
    task = body["task"]
    assert (task["role"], task["assignee_id"], task["unit_id"]) == (
        "supervisor",
        people["sv.diy"],
        None,
    )
    assert code_of(factory, Instansi, task["instansi_id"]) == "34"
    assert body["level"] == 1  # above the province now: Kemendagri
    assert not sees(api, "sleman.pu", tracking) and sees(api, "sv.diy", tracking)
    again = problem_of(act(api, "sv.diy", tracking, "take-over", {"reason": "Lagi."}), 409)
    assert again["field"] == "tracking_id"

    at("2026-02-14T00:00:01+07:00")  # two more working days (Thu, Fri) without an answer
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking) == [(1, "34.04"), (1, "KEMENDAGRI")]

    done = api.call(
        "POST",
        f"/api/v1/tasks/{task['id']}/complete",
        token=api.login("sv.diy"),
        json={"data": FOLLOW_UP},
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"
    assert api.report(tracking)["status"] == status.FOLLOWED_UP
    (data, actor), *_ = notes(factory, tracking)
    assert data == {
        "action": "take_over",
        "instansi": "34",
        "reason": "Dinas tidak merespons.",
        "role": "supervisor",
        "level": 1,
    }
    assert actor == f"user:{people['sv.diy']}"


def test_reassign_to_another_unit_of_the_instansi(
    api: Api, factory: Any, people: dict[str, int]
) -> None:
    tracking = follow_up_escalated(api, factory, claimed=True)
    before = api.task_for("sleman.pu", tracking)
    assert before["assignee_id"] is not None
    move = {"unit": "34.04-DINKES", "reason": "Kewenangan Dinas Kesehatan."}
    body = ok(act(api, "sleman", tracking, "reassign", move))  # Sleman's admin: level 1
    assert (body["from_unit"], body["to_unit"]) == ("34.04-DPUPKP", "34.04-DINKES")
    assert body["task"]["id"] == before["id"] and body["task"]["assignee_id"] is None
    assert code_of(factory, Unit, body["task"]["unit_id"]) == "34.04-DINKES"
    with factory() as s:
        current = s.scalar(select(Report.current_unit_id).where(Report.tracking_id == tracking))
    assert code_of(factory, Unit, current) == "34.04-DINKES"
    assert not sees(api, "sleman.pu", tracking)
    moved = api.task_for("sv.dinkes", tracking)
    assert moved["due_at"] == before["due_at"] == "2026-02-10" + WIB_EOD
    api.complete("sv.dinkes", tracking, FOLLOW_UP)
    assert api.report(tracking)["status"] == status.FOLLOWED_UP
    ((data, _actor),) = notes(factory, tracking)
    assert data == {
        "action": "reassign",
        "instansi": "34.04",
        "reason": "Kewenangan Dinas Kesehatan.",
        "from_unit": "34.04-DPUPKP",
        "to_unit": "34.04-DINKES",
    }


def test_reassign_to_another_instansi_restarts_its_sop(api: Api, factory: Any) -> None:
    tracking = disposition_escalated(api, factory)
    old = api.task_for("sleman", tracking)
    move = {"instansi": "34.71", "reason": "Lokasi di Kota Yogyakarta."}
    body = ok(act(api, "sv.diy", tracking, "reassign", move))
    task = body["task"]
    assert (body["from_instansi"], body["to_instansi"]) == ("34.04", "34.71")
    assert task["id"] != old["id"] and task["milestone"] == "disposition"
    assert code_of(factory, Instansi, task["instansi_id"]) == "34.71"
    assert task["due_at"] == "2026-02-10" + WIB_EOD  # a fresh 2 working days from Friday
    with factory() as s:
        cancelled = s.get(HumanTask, old["id"])
        assert cancelled is not None and cancelled.status == "cancelled"
        sops = s.execute(
            select(ProcessInstance.status, Instansi.code)
            .join(Instansi, Instansi.id == ProcessInstance.instansi_id)
            .join(Report, Report.id == ProcessInstance.report_id)
            .where(Report.tracking_id == tracking)
            .order_by(ProcessInstance.id)
        ).all()
        assert [tuple(row) for row in sops] == [("cancelled", "34.04"), ("running", "34.71")]
        left = select(func.count()).where(
            Deadline.task_id == old["id"], Deadline.status == "pending"
        )
        assert s.scalar(left.select_from(Deadline)) == 0
    public = api.report(tracking)
    assert public["status"] == status.FORWARDED
    assert public["timeline"][-1]["data"]["instansi"] == "34.71"
    assert not sees(api, "sleman", tracking) and sees(api, "sv.kota", tracking)
    # the new instansi answers through the intake as usual: bukan wewenang goes back to verify
    api.complete("sv.kota", tracking, {"outcome": "bukan_wewenang", "reason": "Bukan kami."})
    assert api.report(tracking)["status"] == status.PENDING_VERIFICATION
    assert api.task_for("nasional", tracking)["milestone"] == "verification"
    assert problem_of(act(api, "sv.diy", tracking, "remind", {}), 409)["field"] == "tracking_id"


def test_in_progress_report_moves_instansi_as_the_status_table_allows(
    api: Api, factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking = follow_up_escalated(api, factory)
    move = {"instansi": "34.71", "reason": "Dialihkan oleh admin nasional."}
    if status.FORWARDED not in status.TRANSITIONS[status.IN_PROGRESS]:
        refused = problem_of(act(api, "nasional", tracking, "reassign", move), 409)
        assert refused["field"] == "status"
        assert api.task_for("sleman.pu", tracking)["milestone"] == "follow-up"
        allowed = status.TRANSITIONS[status.IN_PROGRESS] | {status.FORWARDED}
        monkeypatch.setitem(status.TRANSITIONS, status.IN_PROGRESS, allowed)
    body = ok(act(api, "nasional", tracking, "reassign", move))
    assert body["task"]["milestone"] == "disposition"
    assert api.report(tracking)["status"] == status.FORWARDED
    assert sees(api, "sv.kota", tracking) and not sees(api, "sleman.pu", tracking)
    ((data, _actor),) = notes(factory, tracking)
    assert data["instansi"] == "KEMENPANRB" and data["to_instansi"] == "34.71"
