"""Office hours per instansi through the HTTP API (api/rest/sla_admin.py, sla/admin_hours.py):
the default 08:00-16:00 reported, own hours set and reset, open hour-based (`wh`) due moments
recomputed at once, audited, refused for other instansi's admins, bad input named.

Monday 2 February 2026 has no holidays nearby (Imlek is 16-17 February). Sleman (34.04) is on
WIB (UTC+7). The disposition task opens at 09:00 WIB Monday; with Sleman's own 4-office-hour
disposition policy it is due at 13:00 WIB on the default hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, HumanTask, Report, User
from sla.models import Deadline
from tests.helpers import Api, problem_of

MONDAY = "2026-02-02T09:00:00+07:00"
POLICIES = "/api/v1/admin/sla-policies"
HOURS = "/api/v1/admin/office-hours"
SLEMAN = f"{HOURS}/34.04"
DISPOSITION_4WH = {"milestone": "disposition", "duration": 4, "unit": "wh", "instansi": "34.04"}
DEFAULT = {"opens": "08:00", "closes": "16:00", "default": True}


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


def send(api: Api, user: str, method: str, url: str, expect: int, *, json: Any = None) -> Any:
    """Call as `user`; assert the status; return the JSON body."""
    response = api.call(method, url, token=api.login(user), json=json)
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json()


def deadlines_of(factory: Any, tracking: str) -> tuple[str, str | None]:
    """(due, reminder) moments in UTC of the report's one open task; the task's own due moment
    and the scheduler's pending row agree."""
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        [task] = s.scalars(
            select(HumanTask).where(HumanTask.report_id == report_id, HumanTask.status == "open")
        ).all()
        pending = dict(
            s.execute(
                select(Deadline.kind, Deadline.due_at).where(
                    Deadline.task_id == task.id, Deadline.status == "pending"
                )
            ).all()
        )
        assert pending["due"] == task.due_at
        reminder = pending.get("reminder")
        return task.due_at.isoformat(), reminder.isoformat() if reminder else None


def audit_events(factory: Any, action: str) -> list[tuple[str, dict[str, Any]]]:
    with factory() as s:
        rows = s.execute(
            select(AuditEvent.actor, AuditEvent.data)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()
    return [(actor, data) for actor, data in rows]


def actor(factory: Any, username: str) -> str:
    with factory() as s:
        return f"user:{s.scalar(select(User.id).where(User.username == username))}"


def forwarded_to_sleman(api: Api) -> str:
    tracking: str = api.file()["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    return tracking


def test_default_hours_are_reported(api: Api) -> None:
    clock.set_clock(datetime.fromisoformat(MONDAY))
    assert send(api, "sleman", "GET", SLEMAN, 200) == {
        "instansi_code": "34.04",
        "timezone": "Asia/Jakarta",
        **DEFAULT,
    }
    badung = send(api, "nasional", "GET", f"{HOURS}/51.03", 200)
    assert badung == {"instansi_code": "51.03", "timezone": "Asia/Makassar", **DEFAULT}


def test_hours_move_open_hour_based_due_moments_and_reset(api: Api, factory: Any) -> None:
    clock.set_clock(datetime.fromisoformat(MONDAY))
    tracking = forwarded_to_sleman(api)
    assert send(api, "sleman", "PUT", POLICIES, 200, json=DISPOSITION_4WH)["moved"] == 1
    # 4 office hours from 09:00 WIB: 13:00 WIB; the reminder 1 hour before
    assert deadlines_of(factory, tracking) == (
        "2026-02-02T06:00:00+00:00",
        "2026-02-02T05:00:00+00:00",
    )

    # 07:30-15:30 still holds 4 hours after 09:00 on Monday: nothing moves
    same_day = send(api, "sleman", "PUT", SLEMAN, 200, json={"opens": "07:30", "closes": "15:30"})
    assert same_day == {
        "office_hours": {
            "instansi_code": "34.04",
            "timezone": "Asia/Jakarta",
            "opens": "07:30",
            "closes": "15:30",
            "default": False,
        },
        "moved": 0,
    }
    assert deadlines_of(factory, tracking)[0] == "2026-02-02T06:00:00+00:00"

    # 07:30-12:00: 3 hours on Monday (09:00-12:00), the 4th from 07:30 Tuesday -> 08:30 WIB
    short = send(api, "sleman", "PUT", SLEMAN, 200, json={"opens": "07:30", "closes": "12:00"})
    assert short["moved"] == 1
    assert (short["office_hours"]["opens"], short["office_hours"]["closes"]) == ("07:30", "12:00")
    assert deadlines_of(factory, tracking) == (
        "2026-02-03T01:30:00+00:00",
        "2026-02-02T05:00:00+00:00",  # 3 hours: 12:00 WIB Monday
    )
    seen = send(api, "nasional", "GET", SLEMAN, 200)
    assert (seen["opens"], seen["closes"], seen["default"]) == ("07:30", "12:00", False)

    reset = send(api, "sleman", "DELETE", SLEMAN, 200)
    assert reset == {
        "office_hours": {"instansi_code": "34.04", "timezone": "Asia/Jakarta", **DEFAULT},
        "moved": 1,
    }
    assert deadlines_of(factory, tracking)[0] == "2026-02-02T06:00:00+00:00"
    assert send(api, "sleman", "GET", SLEMAN, 200)["default"] is True
    assert send(api, "sleman", "DELETE", SLEMAN, 200)["moved"] == 0  # already the default

    sleman = actor(factory, "sleman")
    assert audit_events(factory, "office_hours.set") == [
        (
            sleman,
            {
                "instansi_code": "34.04",
                "opens": "07:30",
                "closes": "15:30",
                "default": False,
                "previous": {"opens": "08:00", "closes": "16:00", "default": True},
                "moved": 0,
            },
        ),
        (
            sleman,
            {
                "instansi_code": "34.04",
                "opens": "07:30",
                "closes": "12:00",
                "default": False,
                "previous": {"opens": "07:30", "closes": "15:30", "default": False},
                "moved": 1,
            },
        ),
    ]
    assert audit_events(factory, "office_hours.reset") == [  # the no-op reset records nothing
        (
            sleman,
            {
                "instansi_code": "34.04",
                **DEFAULT,
                "previous": {"opens": "07:30", "closes": "12:00", "default": False},
                "moved": 1,
            },
        )
    ]


def test_other_instansi_hours_leave_the_task_alone(api: Api, factory: Any) -> None:
    clock.set_clock(datetime.fromisoformat(MONDAY))
    tracking = forwarded_to_sleman(api)
    send(api, "nasional", "PUT", POLICIES, 200, json=DISPOSITION_4WH)
    badung = send(
        api, "nasional", "PUT", f"{HOURS}/51.03", 200, json={"opens": "10:00", "closes": "12:00"}
    )
    assert badung["moved"] == 0 and badung["office_hours"]["instansi_code"] == "51.03"
    assert deadlines_of(factory, tracking)[0] == "2026-02-02T06:00:00+00:00"
    assert send(api, "sleman", "GET", SLEMAN, 200)["default"] is True


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PUT", {"opens": "07:30", "closes": "15:30"}), ("DELETE", None)],
)
def test_only_admins_of_the_instansi_and_national_admins(
    api: Api, factory: Any, method: str, body: Any
) -> None:
    clock.set_clock(datetime.fromisoformat(MONDAY))
    missing = api.call(method, SLEMAN, json=body)
    assert problem_of(missing, 401)["field"] == "Authorization"
    for user in ("badung", "sleman.pu", "diy"):  # another instansi's admin, a unit, a supervisor
        answer = api.call(method, SLEMAN, token=api.login(user), json=body)
        assert problem_of(answer, 403)["field"] == "role", user
    assert send(api, "sleman", "GET", SLEMAN, 200)["default"] is True
    for action in ("office_hours.set", "office_hours.reset"):
        assert audit_events(factory, action) == []
    send(api, "nasional", method, SLEMAN, 200, json=body)


BAD_INPUT: list[tuple[str, str, Any, int, str]] = [
    ("PUT", SLEMAN, {"opens": "25:00", "closes": "16:00"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "08:00", "closes": "24:00"}, 422, "closes"),
    ("PUT", SLEMAN, {"opens": "7:30", "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "07:60", "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "07:30\n", "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "07:30:00", "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "", "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "16:00", "closes": "08:00"}, 422, "closes"),
    ("PUT", SLEMAN, {"opens": "08:00", "closes": "08:00"}, 422, "closes"),
    ("PUT", SLEMAN, {"opens": "08:00", "closes": "08:59"}, 422, "closes"),
    ("PUT", SLEMAN, {"opens": "05:59", "closes": "22:00"}, 422, "closes"),
    ("PUT", SLEMAN, {"closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "07:30"}, 422, "closes"),
    ("PUT", SLEMAN, {}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": 730, "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "07:30", "closes": ["15:30"]}, 422, "closes"),
    ("PUT", SLEMAN, {"opens": None, "closes": "15:30"}, 422, "opens"),
    ("PUT", SLEMAN, {"opens": "07:30", "closes": "15:30", "days": "mon-fri"}, 422, "days"),
    ("PUT", f"{HOURS}/NOPE", {"opens": "07:30", "closes": "15:30"}, 404, "instansi_code"),
    ("PUT", f"{HOURS}/{'x' * 33}", {"opens": "07:30", "closes": "15:30"}, 404, "instansi_code"),
    ("GET", f"{HOURS}/NOPE", None, 404, "instansi_code"),
    ("DELETE", f"{HOURS}/NOPE", None, 404, "instansi_code"),
]


@pytest.mark.parametrize(("method", "url", "body", "status", "field"), BAD_INPUT)
def test_bad_input_is_a_problem_naming_the_field(
    api: Api, factory: Any, method: str, url: str, body: Any, status: int, field: str
) -> None:
    clock.set_clock(datetime.fromisoformat(MONDAY))
    answer = api.call(method, url, token=api.login("nasional"), json=body)
    assert problem_of(answer, status)["field"] == field
    assert audit_events(factory, "office_hours.set") == []


def test_the_spec_documents_the_office_hours_endpoints(client: Any) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    operations = paths["/api/v1/admin/office-hours/{instansi_code}"]
    assert {"get", "put", "delete"} <= set(operations)
    for method in ("get", "put", "delete"):
        assert "default" in operations[method]["responses"], method
