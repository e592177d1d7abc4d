"""Service-level administration through the HTTP API (api/rest/sla_admin.py, sla/admin*.py):
calendar days and SLA policies that move open due moments (audited), webhooks with a secret
shown once and a signed test delivery, and the outbox for operators.

Early February 2026 has no holidays (Imlek falls on 16-17 February), so every due moment below
is a plain count of weekdays, ending 23:59:59 local: 16:59:59 UTC in WIB, 15:59:59 in WITA.
Needs `api.rest.sla_admin.blp` registered in `create_app`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, HumanTask, Report, User
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from sla.models import Deadline, OutboxMessage
from sla.outbox import DeliveryReport, deliver_due, enqueue_email
from sla.webhooks import verify
from tests.helpers import Api, problem_of
from tests.webhook_receiver import WebhookReceiver

MONDAY = "2026-02-02T09:00:00+07:00"
CALENDAR, POLICIES = "/api/v1/admin/calendar", "/api/v1/admin/sla-policies"
WEBHOOKS, OUTBOX = "/api/v1/admin/webhooks", "/api/v1/admin/outbox"
OPERATOR = "operator.ops"
UNKNOWN_ID = 987654321
HUGE_ID = 99999999999999999999  # fits the route's int converter, not a 32-bit id


def at(text: str) -> None:
    clock.set_clock(datetime.fromisoformat(text))


def wib(day: str) -> str:
    return f"{day}T16:59:59+00:00"


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


@pytest.fixture()
def operator(factory: Any) -> int:
    """A user with the `operator` role (users outlive clean_slate: made once, then reused)."""
    with factory() as s, s.begin():
        user = s.scalar(select(User).where(User.username == OPERATOR))
        if user is None:
            user = auth.create_user(
                s,
                username=OPERATOR,
                full_name="Operator LAPOR Flow",
                password=DEMO_PASSWORD,
                roles=[("operator", None, None)],
            )
        return int(user.id)


def user_id(factory: Any, username: str) -> int:
    with factory() as s:
        return int(s.scalar(select(User.id).where(User.username == username)))


def send(
    api: Api, user: str, method: str, url: str, expect: int, *, json: Any = None, **query: Any
) -> Any:
    """Call as `user`; assert the status; return the JSON body."""
    response = api.call(method, url, token=api.login(user), json=json, query=query or None)
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json()


def refused(api: Api, user: str, method: str, url: str, *, json: Any = None, **query: Any) -> None:
    response = api.call(method, url, token=api.login(user), json=json, query=query or None)
    assert problem_of(response, 403)["field"] == "role"


def open_due(factory: Any, tracking: str) -> str:
    """The due moment (UTC) of the report's one open task."""
    with factory() as s:
        report_id = s.scalar(select(Report.id).where(Report.tracking_id == tracking))
        [task] = s.scalars(
            select(HumanTask).where(HumanTask.report_id == report_id, HumanTask.status == "open")
        ).all()
        pending = s.scalars(
            select(Deadline.due_at).where(
                Deadline.task_id == task.id, Deadline.kind == "due", Deadline.status == "pending"
            )
        ).all()
        assert pending == [task.due_at]  # the scheduler's row follows the task
        return str(task.due_at.isoformat())


def audit_events(factory: Any, action: str) -> list[tuple[str, dict[str, Any]]]:
    with factory() as s:
        rows = s.execute(
            select(AuditEvent.actor, AuditEvent.data)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()
    return [(actor, data) for actor, data in rows]


def forwarded(api: Api, instansi: str, region: str) -> str:
    tracking: str = api.file(region_code=region, target_instansi=instansi)["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": instansi})
    return tracking


# -- calendar -------------------------------------------------------------------------------

HOLIDAY = {"day": "2026-02-04", "kind": "holiday", "reason": "Banjir: kantor ditutup"}


def test_a_national_holiday_moves_the_open_task_and_back(api: Api, factory: Any) -> None:
    at(MONDAY)
    tracking = api.file()["tracking_id"]
    assert open_due(factory, tracking) == wib("2026-02-05")  # verification: 3 working days

    added = send(api, "nasional", "POST", CALENDAR, 201, json=HOLIDAY)
    adjustment_id = added["adjustment"]["id"]
    assert added == {
        "adjustment": {
            "id": adjustment_id,
            "day": "2026-02-04",
            "kind": "holiday",
            "reason": "Banjir: kantor ditutup",
            "scope": "national",
            "region_code": None,
            "instansi_code": None,
            "created_at": "2026-02-02T02:00:00+00:00",
            "removed_at": None,
        },
        "moved": 1,
    }
    assert open_due(factory, tracking) == wib("2026-02-06")  # one working day later
    nasional = f"user:{user_id(factory, 'nasional')}"
    assert audit_events(factory, "calendar.day_added") == [
        (
            nasional,
            {
                "adjustment_id": adjustment_id,
                "day": "2026-02-04",
                "kind": "holiday",
                "scope": "national",
                "region_code": None,
                "instansi_code": None,
                "moved": 1,
            },
        )
    ]
    listed = send(api, "sleman", "GET", CALENDAR, 200, year=2026)
    assert [a["id"] for a in listed] == [adjustment_id]
    assert send(api, "nasional", "GET", CALENDAR, 200, year=2027) == []
    again = api.call("POST", CALENDAR, token=api.login("nasional"), json=HOLIDAY)
    assert problem_of(again, 409)["field"] == "day"

    at("2026-02-02T10:00:00+07:00")
    removed = send(api, "nasional", "DELETE", f"{CALENDAR}/{adjustment_id}", 200)
    assert removed["moved"] == 1
    assert removed["adjustment"]["removed_at"] == "2026-02-02T03:00:00+00:00"
    assert open_due(factory, tracking) == wib("2026-02-05")
    [(actor, data)] = audit_events(factory, "calendar.day_removed")
    assert actor == nasional and (data["day"], data["moved"]) == ("2026-02-04", 1)
    assert send(api, "nasional", "GET", CALENDAR, 200, year=2026) == []
    twice = api.call("DELETE", f"{CALENDAR}/{adjustment_id}", token=api.login("nasional"))
    assert problem_of(twice, 409)["field"] == "adjustment_id"


def test_a_province_day_moves_its_regencies_only(api: Api, factory: Any) -> None:
    at(MONDAY)
    sleman, badung = forwarded(api, "34.04", "34.04"), forwarded(api, "51.03", "51.03")
    assert open_due(factory, sleman) == wib("2026-02-04")  # disposition: 2 working days
    assert open_due(factory, badung) == "2026-02-04T15:59:59+00:00"  # 23:59:59 WITA

    body = {**HOLIDAY, "day": "2026-02-03", "region_code": "34", "reason": "Hari jadi DIY"}
    added = send(api, "nasional", "POST", CALENDAR, 201, json=body)
    assert added["moved"] == 1
    assert (added["adjustment"]["scope"], added["adjustment"]["region_code"]) == ("region", "34")
    assert open_due(factory, sleman) == wib("2026-02-05")
    assert open_due(factory, badung) == "2026-02-04T15:59:59+00:00"
    for_sleman = send(api, "nasional", "GET", CALENDAR, 200, year=2026, instansi_code="34.04")
    assert [a["id"] for a in for_sleman] == [added["adjustment"]["id"]]
    assert send(api, "badung", "GET", CALENDAR, 200, year=2026, instansi_code="51.03") == []
    assert len(send(api, "badung", "GET", CALENDAR, 200, year=2026, region_code="34")) == 1


def test_an_instansi_admin_sets_days_for_their_own_instansi_only(api: Api, factory: Any) -> None:
    at(MONDAY)
    badung = forwarded(api, "51.03", "51.03")
    refused(api, "badung", "POST", CALENDAR, json=HOLIDAY)  # national
    refused(api, "badung", "POST", CALENDAR, json={**HOLIDAY, "region_code": "51"})
    refused(api, "badung", "POST", CALENDAR, json={**HOLIDAY, "instansi_code": "34.04"})
    own = send(api, "badung", "POST", CALENDAR, 201, json={**HOLIDAY, "instansi_code": "51.03"})
    assert (own["adjustment"]["scope"], own["adjustment"]["instansi_code"]) == ("instansi", "51.03")
    assert own["moved"] == 1 and open_due(factory, badung) == "2026-02-05T15:59:59+00:00"

    national = send(api, "nasional", "POST", CALENDAR, 201, json={**HOLIDAY, "day": "2026-02-03"})
    assert national["moved"] == 1 and open_due(factory, badung) == "2026-02-06T15:59:59+00:00"
    refused(api, "badung", "DELETE", f"{CALENDAR}/{national['adjustment']['id']}")
    refused(api, "sleman", "DELETE", f"{CALENDAR}/{own['adjustment']['id']}")
    assert send(api, "badung", "DELETE", f"{CALENDAR}/{own['adjustment']['id']}", 200)["moved"] == 1
    assert open_due(factory, badung) == "2026-02-05T15:59:59+00:00"  # the national day only


# -- SLA policies ---------------------------------------------------------------------------

FOLLOW_UP_3 = {"milestone": "follow-up", "duration": 3, "unit": "wd"}


def test_policies_recompute_open_follow_up_tasks(api: Api, factory: Any) -> None:
    at(MONDAY)
    tracking = forwarded(api, "34.04", "34.04")
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    assert open_due(factory, tracking) == wib("2026-02-09")  # follow-up: 5 working days

    national = send(api, "nasional", "PUT", POLICIES, 200, json=FOLLOW_UP_3)
    assert national["moved"] == 1
    assert {k: v for k, v in national["policy"].items() if k not in ("id", "created_at")} == {
        "instansi_code": None,
        "milestone": "follow-up",
        "classification": None,
        "duration": 3,
        "unit": "wd",
        "reminder": 1,
        "escalation_every": 2,
    }
    assert open_due(factory, tracking) == wib("2026-02-05")
    listing = send(api, "nasional", "GET", POLICIES, 200)
    assert listing["instansi_code"] is None
    assert [p["id"] for p in listing["policies"]] == [national["policy"]["id"]]
    assert {e["milestone"]: (e["duration"], e["source"]) for e in listing["effective"]} == {
        "verification": (3, "national default"),
        "disposition": (2, "national default"),
        "follow-up": (3, "national policy"),
        "close": (2, "national default"),
    }

    above = api.call(
        "PUT",
        POLICIES,
        token=api.login("sleman"),
        json={**FOLLOW_UP_3, "duration": 4, "instansi": "34.04"},
    )
    assert problem_of(above, 422)["field"] == "duration"  # above the national maximum
    refused(api, "sleman", "PUT", POLICIES, json=FOLLOW_UP_3)
    refused(api, "sleman", "PUT", POLICIES, json={**FOLLOW_UP_3, "duration": 2, "instansi": "34"})

    province = send(
        api, "nasional", "PUT", POLICIES, 200, json={**FOLLOW_UP_3, "duration": 2, "instansi": "34"}
    )
    assert province["moved"] == 1  # Sleman inherits its province's policy
    assert open_due(factory, tracking) == wib("2026-02-04")
    sleman = send(api, "sleman", "GET", POLICIES, 200, instansi="34.04")
    follow_up = next(e for e in sleman["effective"] if e["milestone"] == "follow-up")
    assert (follow_up["duration"], follow_up["source"]) == (2, "policy of 34")
    assert sleman["policies"] == []
    refused(api, "badung", "GET", POLICIES, instansi="34.04")

    refused(api, "sleman", "DELETE", f"{POLICIES}/{province['policy']['id']}")
    deleted = send(api, "nasional", "DELETE", f"{POLICIES}/{province['policy']['id']}", 200)
    assert deleted["moved"] == 1 and open_due(factory, tracking) == wib("2026-02-05")
    assert [
        (d["duration"], d["previous"], d["moved"])
        for _, d in audit_events(factory, "sla_policy.set")
    ] == [(3, None, 1), (2, None, 1)]
    assert audit_events(factory, "sla_policy.deleted")[0][1]["moved"] == 1


# -- webhooks -------------------------------------------------------------------------------


def test_webhook_secret_is_shown_once_and_the_test_event_arrives_signed(
    api: Api, factory: Any
) -> None:
    at(MONDAY)
    with WebhookReceiver() as receiver:
        url = f"{receiver.url}/lapor/hook"
        created = send(api, "sleman", "POST", WEBHOOKS, 201, json={"instansi": "34.04", "url": url})
        secret, webhook_id = created.pop("secret"), created["id"]
        assert len(secret) >= 43
        assert created == {
            "id": webhook_id,
            "instansi_code": "34.04",
            "url": url,
            "active": True,
            "created_at": "2026-02-02T02:00:00+00:00",
            "source": "instansi",  # every change of Sleman's reports and its alerts
            "api_key_id": None,
            "event_types": None,
        }
        assert send(api, "sleman", "GET", WEBHOOKS, 200, instansi="34.04") == [created]
        assert send(api, "sleman", "GET", WEBHOOKS, 200) == [created]
        assert send(api, "badung", "GET", WEBHOOKS, 200) == []
        refused(api, "badung", "GET", WEBHOOKS, instansi="34.04")
        refused(api, "badung", "POST", WEBHOOKS, json={"instansi": "34.04", "url": url})
        refused(api, "badung", "POST", f"{WEBHOOKS}/{webhook_id}/test")

        queued = send(api, "sleman", "POST", f"{WEBHOOKS}/{webhook_id}/test", 202)
        assert (queued["channel"], queued["subject"], queued["status"]) == (
            "webhook",
            "test",
            "pending",
        )
        assert deliver_due(factory) == DeliveryReport(sent=1)
        [request] = receiver.received()
    assert request.path == "/lapor/hook"
    headers = request.headers
    assert headers["X-Lapor-Event-Id"] == queued["event_id"]
    assert verify(secret, headers["X-Lapor-Timestamp"], request.body, headers["X-Lapor-Signature"])
    assert not verify(
        "not-the-secret", headers["X-Lapor-Timestamp"], request.body, headers["X-Lapor-Signature"]
    )
    event = json.loads(request.body)
    assert (event["id"], event["type"]) == (queued["event_id"], "test")
    assert event["data"] == {
        "webhook_id": webhook_id,
        "instansi": "34.04",
        "requested_by": "sleman",
    }

    deactivated = send(api, "nasional", "DELETE", f"{WEBHOOKS}/{webhook_id}", 200)
    assert deactivated == {**created, "active": False}
    inactive = api.call("POST", f"{WEBHOOKS}/{webhook_id}/test", token=api.login("sleman"))
    assert problem_of(inactive, 409)["field"] == "webhook_id"
    for action in ("webhook.created", "webhook.test_sent", "webhook.deactivated"):
        assert len(audit_events(factory, action)) == 1, action
    with factory() as s:
        assert all(secret not in json.dumps(d) for d in s.scalars(select(AuditEvent.data)))


# -- outbox ---------------------------------------------------------------------------------


def test_operators_see_and_resend_dead_messages(api: Api, factory: Any, operator: int) -> None:
    at(MONDAY)
    with factory() as s, s.begin():
        message = enqueue_email(s, to="warga@example.org", subject="Status laporan", body="Isi")
        s.flush()
        message.status, message.attempts, message.last_error = "dead", 12, "550 mailbox unknown"
        enqueue_email(s, to="lain@example.org", subject="Lain", body="Isi")
    dead = send(api, OPERATOR, "GET", OUTBOX, 200, status="dead")
    assert [(m["id"], m["recipient"], m["last_error"]) for m in dead] == [
        (message.id, "warga@example.org", "550 mailbox unknown")
    ]
    assert "body" not in dead[0]
    assert len(send(api, "nasional", "GET", OUTBOX, 200)) == 2
    refused(api, "sleman", "GET", OUTBOX)
    refused(api, "sleman", "POST", f"{OUTBOX}/{message.id}/resend")

    resent = send(api, OPERATOR, "POST", f"{OUTBOX}/{message.id}/resend", 202)
    assert (resent["status"], resent["event_id"]) == ("pending", message.event_id)
    assert audit_events(factory, "outbox.resent") == [
        (
            f"user:{operator}",
            {"message_id": message.id, "event_id": message.event_id, "previous_status": "dead"},
        )
    ]
    problem_of(api.call("POST", f"{OUTBOX}/{message.id}/resend", token=api.login(OPERATOR)), 409)
    for missing in (UNKNOWN_ID, HUGE_ID):
        answer = api.call("POST", f"{OUTBOX}/{missing}/resend", token=api.login(OPERATOR))
        assert problem_of(answer, 404)["field"] == "message_id"
    with factory() as s:
        assert s.get(OutboxMessage, message.id).status == "pending"


# -- every endpoint: token, role, bad input -------------------------------------------------

ENDPOINTS: list[tuple[str, str, Any, dict[str, Any] | None]] = [
    ("GET", CALENDAR, None, {"year": 2026}),
    ("POST", CALENDAR, HOLIDAY, None),
    ("DELETE", f"{CALENDAR}/1", None, None),
    ("GET", POLICIES, None, None),
    ("PUT", POLICIES, FOLLOW_UP_3, None),
    ("DELETE", f"{POLICIES}/1", None, None),
    ("GET", WEBHOOKS, None, None),
    ("POST", WEBHOOKS, {"instansi": "34.04", "url": "https://example.org/hook"}, None),
    ("DELETE", f"{WEBHOOKS}/1", None, None),
    ("POST", f"{WEBHOOKS}/1/test", None, None),
    ("GET", OUTBOX, None, None),
    ("POST", f"{OUTBOX}/1/resend", None, None),
]


@pytest.mark.parametrize(("method", "url", "body", "query"), ENDPOINTS)
def test_every_endpoint_needs_a_token_and_a_role(
    api: Api, method: str, url: str, body: Any, query: dict[str, Any] | None
) -> None:
    missing = api.call(method, url, json=body, query=query)
    assert problem_of(missing, 401)["field"] == "Authorization"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for user in ("sleman.pu", "diy"):  # admin_unit / pejabat_penghubung, supervisor
        wrong = api.call(method, url, token=api.login(user), json=body, query=query)
        assert problem_of(wrong, 403)["field"] == "role", user


LONG = "x" * 501
BAD_INPUT: list[tuple[str, str, Any, dict[str, Any] | None, int, str]] = [
    ("GET", CALENDAR, None, {}, 422, "year"),
    ("GET", CALENDAR, None, {"year": "abc"}, 422, "year"),
    ("GET", CALENDAR, None, {"year": 1999}, 422, "year"),
    (
        "GET",
        CALENDAR,
        None,
        {"year": 2026, "region_code": "34", "instansi_code": "34.04"},
        422,
        "region_code",
    ),
    ("GET", CALENDAR, None, {"year": 2026, "instansi_code": "NOPE"}, 404, "instansi_code"),
    ("GET", CALENDAR, None, {"year": 2026, "region_code": "99"}, 404, "region_code"),
    ("POST", CALENDAR, {**HOLIDAY, "day": "2026-02-31"}, None, 422, "day"),
    ("POST", CALENDAR, {**HOLIDAY, "day": "04/02/2026"}, None, 422, "day"),
    ("POST", CALENDAR, {**HOLIDAY, "day": "1999-12-31"}, None, 422, "day"),
    ("POST", CALENDAR, {**HOLIDAY, "kind": "holyday"}, None, 422, "kind"),
    ("POST", CALENDAR, {**HOLIDAY, "reason": ""}, None, 422, "reason"),
    ("POST", CALENDAR, {**HOLIDAY, "reason": "   "}, None, 422, "reason"),
    ("POST", CALENDAR, {**HOLIDAY, "reason": LONG}, None, 422, "reason"),
    ("POST", CALENDAR, {**HOLIDAY, "reason": "a\x00b"}, None, 422, "reason"),
    ("POST", CALENDAR, {"day": "2026-02-04", "kind": "holiday"}, None, 422, "reason"),
    (
        "POST",
        CALENDAR,
        {**HOLIDAY, "region_code": "34", "instansi_code": "34.04"},
        None,
        422,
        "region_code",
    ),
    ("POST", CALENDAR, {**HOLIDAY, "region_code": "99"}, None, 404, "region_code"),
    ("POST", CALENDAR, {**HOLIDAY, "region_code": "3" * 17}, None, 422, "region_code"),
    ("POST", CALENDAR, {**HOLIDAY, "instansi_code": "NOPE"}, None, 404, "instansi_code"),
    ("POST", CALENDAR, {**HOLIDAY, "instansi_code": "x" * 33}, None, 422, "instansi_code"),
    ("POST", CALENDAR, {**HOLIDAY, "scope": "national"}, None, 422, "scope"),
    ("DELETE", f"{CALENDAR}/{UNKNOWN_ID}", None, None, 404, "adjustment_id"),
    ("DELETE", f"{CALENDAR}/{HUGE_ID}", None, None, 404, "adjustment_id"),
    ("GET", POLICIES, None, {"instansi": "NOPE"}, 404, "instansi"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "milestone": "triage"}, None, 422, "milestone"),
    ("PUT", POLICIES, {"duration": 3, "unit": "wd"}, None, 422, "milestone"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "duration": 0}, None, 422, "duration"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "duration": 366}, None, 422, "duration"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "duration": "3"}, None, 422, "duration"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "unit": "d"}, None, 422, "unit"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "reminder": 3}, None, 422, "reminder"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "escalation_every": 0}, None, 422, "escalation_every"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "classification": "keluhan"}, None, 422, "classification"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "instansi": "NOPE"}, None, 404, "instansi"),
    ("PUT", POLICIES, {**FOLLOW_UP_3, "instansi": "x" * 33}, None, 422, "instansi"),
    ("DELETE", f"{POLICIES}/{UNKNOWN_ID}", None, None, 404, "policy_id"),
    ("GET", WEBHOOKS, None, {"instansi": "NOPE"}, 404, "instansi"),
    ("POST", WEBHOOKS, {"url": "https://example.org/hook"}, None, 422, "instansi"),
    ("POST", WEBHOOKS, {"instansi": "NOPE", "url": "https://example.org/"}, None, 404, "instansi"),
    ("POST", WEBHOOKS, {"instansi": "34.04"}, None, 422, "url"),
    ("POST", WEBHOOKS, {"instansi": "34.04", "url": "ftp://example.org/hook"}, None, 422, "url"),
    ("POST", WEBHOOKS, {"instansi": "34.04", "url": "https://"}, None, 422, "url"),
    ("POST", WEBHOOKS, {"instansi": "34.04", "url": "example.org/hook"}, None, 422, "url"),
    ("POST", WEBHOOKS, {"instansi": "34.04", "url": "https://u:p@example.org/"}, None, 422, "url"),
    ("POST", WEBHOOKS, {"instansi": "34.04", "url": "https://exa mple.org/"}, None, 422, "url"),
    (
        "POST",
        WEBHOOKS,
        {"instansi": "34.04", "url": "https://example.org:99999/"},
        None,
        422,
        "url",
    ),
    (
        "POST",
        WEBHOOKS,
        {"instansi": "34.04", "url": "https://example.org/" + LONG},
        None,
        422,
        "url",
    ),
    ("DELETE", f"{WEBHOOKS}/{UNKNOWN_ID}", None, None, 404, "webhook_id"),
    ("POST", f"{WEBHOOKS}/{HUGE_ID}/test", None, None, 404, "webhook_id"),
    ("GET", OUTBOX, None, {"status": "lost"}, 422, "status"),
    ("GET", OUTBOX, None, {"limit": 0}, 422, "limit"),
    ("GET", OUTBOX, None, {"limit": 201}, 422, "limit"),
]


@pytest.mark.parametrize(("method", "url", "body", "query", "status", "field"), BAD_INPUT)
def test_bad_input_is_a_problem_naming_the_field(
    api: Api,
    method: str,
    url: str,
    body: Any,
    query: dict[str, Any] | None,
    status: int,
    field: str,
) -> None:
    at(MONDAY)
    answer = api.call(method, url, token=api.login("nasional"), json=body, query=query)
    assert problem_of(answer, status)["field"] == field
