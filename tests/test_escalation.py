"""Deadlines on the settable clock: due dates on tasks, overdue -> escalation up the tree ->
second level -> KemenPANRB, the 60-day limit -> Ombudsman, and the clock pausing on tunda.

Early February 2026 has no holidays (Imlek and its cuti bersama fall on 16-17 February), so
every due moment below is a plain count of weekdays, ending 23:59:59 WIB (16:59:59 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.models import HumanTask, Instansi, Report, User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from sla.models import Alert, Deadline, DeadlineFiring, Escalation, OutboxMessage
from sla.sweep import sweep
from tests.helpers import Api

WIB_EOD = "T16:59:59+00:00"  # 23:59:59 in Asia/Jakarta


def at(text: str) -> None:
    clock.set_clock(datetime.fromisoformat(text))


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


@pytest.fixture()
def supervisors(factory: Any) -> dict[str, int]:
    """Supervisors with email at DI Yogyakarta (34), Kemendagri and the Ombudsman."""
    ids = {}
    with factory() as s, s.begin():
        for username, code in (
            ("sup.diy", "34"),
            ("sup.dagri", "KEMENDAGRI"),
            ("sup.ori", "OMBUDSMAN"),
        ):
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                user = auth.create_user(
                    s,
                    username=username,
                    full_name=f"Supervisor {code}",
                    password=DEMO_PASSWORD,
                    email=f"{username}@lapor.test",
                    roles=[("supervisor", code, None)],
                )
            ids[code] = user.id
    return ids


def open_task(factory: Any, tracking: str) -> HumanTask:
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        return s.scalar(
            select(HumanTask).where(HumanTask.report_id == report_id, HumanTask.status == "open")
        )


def escalations(factory: Any, tracking: str) -> list[tuple[int, str, str]]:
    with factory() as s:
        rows = s.execute(
            select(Escalation.level, Instansi.code, Escalation.reason)
            .join(Instansi, Instansi.id == Escalation.to_instansi_id)
            .join(Report, Report.id == Escalation.report_id)
            .where(Report.tracking_id == tracking)
            .order_by(Escalation.id)
        ).all()
    return [tuple(r) for r in rows]


def test_task_due_dates_and_sla_state_in_the_inbox(api: Api, factory: Any) -> None:
    at("2026-02-02T09:00:00+07:00")  # Monday
    tracking = api.file()["tracking_id"]
    verify = api.task_for("nasional", tracking)
    assert verify["due_at"] == "2026-02-05" + WIB_EOD  # 3 working days: Thursday
    assert verify["sla_state"] == "on_time"
    assert verify["working_days_left"] > 3
    at("2026-02-05T12:00:00+07:00")
    assert api.task_for("nasional", tracking)["sla_state"] == "due_soon"
    at("2026-02-06T08:00:00+07:00")
    overdue = api.task_for("nasional", tracking)
    assert overdue["sla_state"] == "overdue" and overdue["working_days_left"] < 0


def test_overdue_escalates_level_by_level_with_alerts(
    api: Api, factory: Any, supervisors: dict[str, int]
) -> None:
    at("2026-02-02T09:00:00+07:00")
    tracking = api.file()["tracking_id"]
    at("2026-02-03T10:00:00+07:00")  # Tuesday: forwarded to Kabupaten Sleman
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    receive = api.task_for("sleman", tracking)
    assert receive["due_at"] == "2026-02-05" + WIB_EOD  # disposition: 2 working days

    at("2026-02-05T23:59:58+07:00")
    assert sweep(factory, scheduler="t").fired == 0 or escalations(factory, tracking) == []
    at("2026-02-06T00:00:01+07:00")  # one second past due
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking) == [(1, "34", "overdue")]  # Sleman -> DIY province
    assert api.task_for("sleman", tracking)["sla_state"] == "escalated"
    sweep(factory, scheduler="t")  # nothing fires twice
    assert len(escalations(factory, tracking)) == 1

    at("2026-02-10T23:59:58+07:00")  # next level after 2 more working days (Mon, Tue)
    sweep(factory, scheduler="t")
    assert len(escalations(factory, tracking)) == 1
    at("2026-02-11T00:00:01+07:00")
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking)[-1] == (2, "KEMENDAGRI", "overdue")
    at("2026-02-14T00:00:01+07:00")  # Thu, Fri after the day it fired: level 3, the top
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking)[-1] == (3, "KEMENPANRB", "overdue")
    at("2026-03-31T00:00:00+07:00")  # long after: no level above KemenPANRB
    sweep(factory, scheduler="t")
    assert [level for level, _, _ in escalations(factory, tracking)] == [1, 2, 3]

    with factory() as s:
        diy_alerts = s.scalars(select(Alert.title).where(Alert.user_id == supervisors["34"])).all()
        assert diy_alerts == [f"Laporan {tracking} terlambat: eskalasi tingkat 1"]
        national = s.scalar(select(User.id).where(User.username == "nasional"))
        assert (
            s.scalar(
                select(func.count())
                .select_from(Alert)
                .where(Alert.user_id == national, Alert.kind == "escalation")
            )
            == 1
        )
        emails = s.scalars(
            select(OutboxMessage.recipient)
            .where(OutboxMessage.channel == "email")
            .order_by(OutboxMessage.id)
        ).all()
        assert emails == ["sup.diy@lapor.test", "sup.dagri@lapor.test"]
    token = api.login("sup.diy")
    inbox = api.call("GET", "/api/v1/alerts", token=token).get_json()
    assert inbox["unread"] == 1
    alert_id = inbox["alerts"][0]["id"]
    assert api.call("POST", f"/api/v1/alerts/{alert_id}/read", token=token).status_code == 200
    assert api.call("GET", "/api/v1/alerts", token=token).get_json()["unread"] == 0
    other = api.call("POST", f"/api/v1/alerts/{alert_id}/read", token=api.login("sleman"))
    assert other.status_code == 404

    # done at last: nothing more is pending for the task
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    with factory() as s:
        task_ids = s.scalars(select(HumanTask.id).where(HumanTask.bpmn_id == "receive")).all()
        assert (
            s.scalar(
                select(func.count())
                .select_from(Deadline)
                .where(Deadline.task_id.in_(task_ids), Deadline.status == "pending")
            )
            == 0
        )


def test_outer_limit_notifies_the_ombudsman(
    api: Api, factory: Any, supervisors: dict[str, int]
) -> None:
    at("2026-02-02T09:00:00+07:00")
    tracking = api.file()["tracking_id"]
    at("2026-02-03T10:00:00+07:00")
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    at("2026-04-04T09:59:59+07:00")  # 60 calendar days after the end of verification, minus 1s
    sweep(factory, scheduler="t")
    assert all(reason == "overdue" for _, _, reason in escalations(factory, tracking))
    at("2026-04-04T10:00:00+07:00")
    sweep(factory, scheduler="t")
    assert escalations(factory, tracking)[-1] == (0, "OMBUDSMAN", "outer_limit")
    with factory() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Alert)
                .where(Alert.user_id == supervisors["OMBUDSMAN"])
            )
            == 1
        )


def test_tunda_pauses_the_verification_clock(api: Api, factory: Any) -> None:
    at("2026-02-02T09:00:00+07:00")  # Monday
    filed = api.file(target_instansi=None)
    tracking = filed["tracking_id"]
    at("2026-02-03T10:00:00+07:00")
    api.complete("nasional", tracking, {"outcome": "tunda", "reason": "Alamat kurang jelas."})
    at("2026-02-09T10:00:00+07:00")  # Monday: Wed, Thu, Fri and Mon were spent waiting
    api.reply(tracking, filed["secret"], kind="info", text="Alamatnya Jl. Kaliurang km 10.")
    # 3 working days from filing plus 4 paused: Wednesday 11 February
    assert api.task_for("nasional", tracking)["due_at"] == "2026-02-11" + WIB_EOD


def test_bukan_wewenang_restarts_the_verification_clock(api: Api, factory: Any) -> None:
    at("2026-02-02T09:00:00+07:00")
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    at("2026-02-04T11:00:00+07:00")  # Wednesday: Sleman returns it
    api.complete("sleman", tracking, {"outcome": "bukan_wewenang", "reason": "Jalan provinsi."})
    assert api.task_for("nasional", tracking)["due_at"] == "2026-02-09" + WIB_EOD  # Thu Fri Mon


def test_missed_deadlines_fire_once_in_due_order(factory: Any, api: Api) -> None:
    at("2026-02-02T09:00:00+07:00")
    trackings = [api.file()["tracking_id"] for _ in range(3)]
    # the scheduler was down for a week: every verification went overdue meanwhile
    at("2026-02-09T09:00:00+07:00")
    first = sweep(factory, scheduler="after-downtime")
    again = sweep(factory, scheduler="after-downtime")
    assert first.fired >= 3 and again.fired == 0
    with factory() as s:
        fired = s.execute(
            select(DeadlineFiring.deadline_id, Deadline.due_at)
            .join(Deadline)
            .order_by(DeadlineFiring.id)
        ).all()
        dues = [due for _, due in fired]
        assert dues == sorted(dues)
        assert len({d for d, _ in fired}) == len(fired)
    assert all(escalations(factory, t)[0][0] == 1 for t in trackings)


def test_clock_must_be_aware() -> None:
    with pytest.raises(ValueError):
        clock.set_clock(datetime(2026, 2, 2, 9, 0))
    clock.set_clock(datetime(2026, 2, 2, 2, 0, tzinfo=UTC))
    assert clock.now() == datetime(2026, 2, 2, 2, 0, tzinfo=UTC)


def test_a_day_added_later_moves_the_next_escalation_and_the_auto_close(
    api: Api, factory: Any
) -> None:
    from datetime import date

    from sla.calendar_service import add_adjustment
    from sla.deadlines import replan_open_tasks

    def pending(tracking: str, kind: str) -> datetime:
        with factory() as s:
            return s.scalar(
                select(Deadline.due_at)
                .join(Report, Report.id == Deadline.report_id)
                .where(
                    Report.tracking_id == tracking,
                    Deadline.kind == kind,
                    Deadline.status == "pending",
                )
            )

    at("2026-02-02T09:00:00+07:00")
    late = api.file()["tracking_id"]
    answered = api.file()["tracking_id"]
    for tracking in (late, answered):
        api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    api.complete("sleman", answered, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    api.complete("sleman.pu", answered, {"tindak_lanjut": "Sudah diperbaiki kemarin sore."})
    # followed up on Monday 2 Feb: auto-close after 10 working days; 16 Feb is cuti bersama and
    # 17 Feb Imlek, so the tenth is Wednesday 18 Feb
    assert pending(answered, "auto_close").isoformat() == "2026-02-18" + WIB_EOD
    at("2026-02-05T00:00:01+07:00")  # the disposition of `late` was due end of Wednesday 4 Feb
    sweep(factory, scheduler="t")
    assert escalations(factory, late) == [(1, "34", "overdue")]
    assert pending(late, "escalation").isoformat() == "2026-02-09" + WIB_EOD  # Fri, Mon

    with factory() as s, s.begin():  # a disaster closure on Friday 6 February, nationally
        add_adjustment(s, day=date(2026, 2, 6), kind="holiday", reason="Banjir", actor="system")
        assert replan_open_tasks(s) >= 2
    assert pending(late, "escalation").isoformat() == "2026-02-10" + WIB_EOD  # Mon, Tue
    assert pending(answered, "auto_close").isoformat() == "2026-02-19" + WIB_EOD
