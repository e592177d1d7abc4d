"""A script or condition that fails inside the engine puts its instance in incident and never
fails the request: the step before it is kept, operators list and retry the incident, and a
corrected version (moved to with a migration) lets it run on.

Fixtures (tests/bpmn): `sop-ops-broken.bpmn` fails in the bukan-wewenang script,
`sop-ops-fixed.bpmn` is the same SOP corrected; `sop-ops-broken-start.bpmn` fails right after
its start; `sop-timer-incident.bpmn` fails in the gateway after a two-hour timer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, HumanTask, ProcessInstance, Report
from engine.services import driver
from sla import bpmn_timers
from sla.models import Deadline
from sla.sweep import sweep
from tests.helpers import Api, deploy_sop, problem_of, sop_instance

FIXTURES = Path(__file__).resolve().parent / "bpmn"
KEY = "sop-34.04"
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
BUKAN = {"outcome": "bukan_wewenang", "reason": "Jalan nasional: wewenang Kementerian PU."}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}


T0 = datetime(2033, 3, 7, 2, 0, tzinfo=UTC)  # a Monday, 09:00 WIB


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    clock.set_clock(T0)
    return Api(fresh_client)


def deploy(factory: Any, fixture: str, key: str = KEY) -> int:
    """Deploy a fixture as the next version of Sleman's (34.04) SOP; returns the version."""
    return int(deploy_sop(factory, "34.04", (FIXTURES / fixture).read_bytes(), key).version)


def sop_of(factory: Any, tracking: str) -> ProcessInstance:
    return sop_instance(factory, tracking)


def actions(factory: Any, instance_id: int) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.instance_id == instance_id)
                .order_by(AuditEvent.id)
            )
        )


def incidents(api: Api, username: str = "nasional") -> list[dict[str, Any]]:
    response = api.call("GET", "/api/v1/incidents", token=api.login(username))
    assert response.status_code == 200, response.get_json()
    body: list[dict[str, Any]] = response.get_json()
    return body


def retry(api: Api, instance_id: int, expect: int = 200, username: str = "nasional") -> Any:
    response = api.call("POST", f"/api/v1/incidents/{instance_id}/retry", token=api.login(username))
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def migrate(api: Api, **body: Any) -> dict[str, Any]:
    response = api.call(
        "POST",
        f"/api/v1/process-definitions/{KEY}/migrations",
        token=api.login("nasional"),
        json=body,
    )
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def test_failing_script_on_completion_is_an_incident_fixed_by_migration_and_retry(
    api: Api, factory: Any
) -> None:
    deploy(factory, "sop-ops-broken.bpmn")
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    task = api.complete("sleman", tracking, BUKAN)  # the script after it fails: still a 200

    sop = sop_of(factory, tracking)
    assert sop.status == "incident"
    assert sop.incident is not None and sop.incident.startswith("mark_bukan_wewenang: ")
    assert "undefined_name" in sop.incident and sop.incident_at == clock.now()
    with factory() as s:
        row = s.get(HumanTask, task["id"])
        assert row is not None and row.status == "completed"  # what succeeded is kept
        assert s.scalar(select(HumanTask.id).where(HumanTask.status == "open")) is None
    assert api.report(tracking)["status"] == "pending_verification"
    assert "instance.incident" in actions(factory, sop.id)

    (listed,) = incidents(api)
    assert listed == {
        "instance_id": sop.id,
        "report_id": sop.report_id,
        "tracking_id": tracking,
        "definition_key": KEY,
        "definition_version": 1,
        "instansi_id": sop.instansi_id,
        "status": "incident",
        "incident": sop.incident,
        "incident_at": listed["incident_at"],
        "failed_tasks": ["mark_bukan_wewenang"],
    }
    assert listed["incident_at"].startswith(sop.incident_at.strftime("%Y-%m-%dT%H:%M:%S"))

    # a retry on the same broken script fails again: still in incident, with the new error
    clock.set_clock(clock.now() + timedelta(minutes=5))
    again = retry(api, sop.id)
    assert again["status"] == "incident" and again["retried"] == ["mark_bukan_wewenang"]
    assert (
        again["failed_tasks"] == ["mark_bukan_wewenang"] and "undefined_name" in again["incident"]
    )
    assert sop_of(factory, tracking).incident_at == clock.now()

    # deploy the corrected version, move the instance to it, retry: it runs on and completes
    assert deploy(factory, "sop-ops-fixed.bpmn") == 2
    moved = migrate(api, from_version=1, to_version=2, dry_run=False)
    assert moved["moved"] == [sop.id] and moved["skipped"] == []
    done = retry(api, sop.id)
    assert done["status"] == "completed" and done["retried"] == ["mark_bukan_wewenang"]
    assert done["incident"] is None and done["incident_at"] is None
    assert done["failed_tasks"] == [] and done["definition_version"] == 2
    assert incidents(api) == []
    assert actions(factory, sop.id)[-3:] == [
        "instance.retried",
        "instance.migrated",
        "instance.retried",
    ]
    # the SOP's result reached the intake: national verification opens again
    assert api.task_for("nasional", tracking)["bpmn_id"] == "verify"
    retry(api, sop.id, expect=409)  # no longer in incident


def test_failing_script_at_sop_start_keeps_the_forwarding(api: Api, factory: Any) -> None:
    deploy(factory, "sop-ops-broken-start.bpmn", key="sop-start-34.04")
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)  # starting Sleman's SOP fails: still a 200
    assert api.report(tracking)["status"] == "forwarded"
    sop = sop_of(factory, tracking)
    assert sop.status == "incident" and sop.incident is not None
    assert sop.incident.startswith("prepare: ")
    sleman_tasks = api.call("GET", "/api/v1/tasks", token=api.login("sleman")).get_json()
    assert sleman_tasks == []

    deploy(factory, "sop-ops-fixed-start.bpmn", key="sop-start-34.04")
    response = api.call(
        "POST",
        "/api/v1/process-definitions/sop-start-34.04/migrations",
        token=api.login("nasional"),
        json={"from_version": 1, "to_version": 2, "dry_run": False},
    )
    assert response.status_code == 200 and response.get_json()["moved"] == [sop.id]
    assert retry(api, sop.id)["status"] == "running"
    assert api.task_for("sleman", tracking)["bpmn_id"] == "receive"
    api.complete("sleman", tracking, DISPOSE)
    assert api.report(tracking)["status"] == "in_progress"


def test_incident_at_a_timer_wake_is_not_woken_again(api: Api, factory: Any) -> None:
    deploy(factory, "sop-timer-incident.bpmn")
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    due = T0 + timedelta(hours=2)

    clock.set_clock(due)
    sweep(factory, scheduler="t")  # the wake fails in the gateway after the timer
    sop = sop_of(factory, tracking)
    assert sop.status == "incident" and sop.incident is not None
    assert sop.incident.startswith("to_follow_up: ")
    with factory() as s:
        timers = s.execute(
            select(Deadline.status).where(
                Deadline.report_id == sop.report_id, Deadline.kind == bpmn_timers.KIND
            )
        ).all()
        assert [status for (status,) in timers] == ["fired"]  # nothing left to fire
    clock.set_clock(due + timedelta(days=1))
    sweep(factory, scheduler="t")
    with factory() as s, s.begin():
        assert driver.wake_timers(s, instance_id=sop.id) is False
    assert sop_of(factory, tracking).incident_at == due
    assert actions(factory, sop.id).count("instance.incident") == 1


def test_only_national_admins_see_and_retry_incidents(api: Api, factory: Any) -> None:
    deploy(factory, "sop-ops-broken.bpmn")
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, BUKAN)
    sop = sop_of(factory, tracking)
    for username in ("sleman", "designer", "diy"):
        token = api.login(username)
        listing = api.call("GET", "/api/v1/incidents", token=token)
        assert problem_of(listing, 403)["field"] == "role"
        retried = api.call("POST", f"/api/v1/incidents/{sop.id}/retry", token=token)
        assert problem_of(retried, 403)["field"] == "role"
    assert problem_of(api.call("GET", "/api/v1/incidents"), 401)["field"] == "Authorization"
    assert sop_of(factory, tracking).status == "incident"


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/v1/incidents/987654321/retry", 404, "instance_id"),
        ("/api/v1/incidents/99999999999999999999/retry", 404, "instance_id"),
        ("/api/v1/incidents/0/retry", 404, "instance_id"),
    ],
)
def test_retry_of_unknown_instances_is_404(api: Api, url: str, status: int, field: str) -> None:
    response = api.call("POST", url, token=api.login("nasional"))
    assert problem_of(response, status)["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [({"limit": 0}, "limit"), ({"limit": "x"}, "limit"), ({"offset": -1}, "offset")],
)
def test_bad_incident_queries_are_422(api: Api, query: dict[str, Any], field: str) -> None:
    response = api.call("GET", "/api/v1/incidents", token=api.login("nasional"), query=query)
    assert problem_of(response, 422)["field"] == field


def test_retry_of_a_running_instance_is_409(api: Api, factory: Any) -> None:
    tracking = api.file()["tracking_id"]
    with factory() as s:
        intake = s.scalar(
            select(ProcessInstance.id)
            .join(Report, Report.id == ProcessInstance.report_id)
            .where(Report.tracking_id == tracking)
        )
    response = api.call("POST", f"/api/v1/incidents/{intake}/retry", token=api.login("nasional"))
    assert problem_of(response, 409)["field"] == "instance_id"


def test_rating_that_hits_a_failing_close_script_closes_the_report_after_the_retry(
    api: Api, factory: Any
) -> None:
    """The pelapor's rating is accepted; the report stays followed-up (not reopened) while the
    SOP is in incident, and closes once the corrected version runs."""
    deploy(factory, "sop-ops-broken-close.bpmn")
    filed = api.file()
    tracking, secret = filed["tracking_id"], filed["secret"]
    api.complete("nasional", tracking, FORWARD)
    api.complete("sleman", tracking, DISPOSE)
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "Lubang sudah ditambal hari ini."})
    replied = api.reply(tracking, secret, kind="rating", rating=5, satisfied=True)
    assert replied["status"] == "followed_up"
    sop = sop_of(factory, tracking)
    assert sop.status == "incident" and "undefined_closing_name" in (sop.incident or "")
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        assert report is not None and report.reopen_count == 0

    assert deploy(factory, "sop-ops-fixed.bpmn") == 2
    assert migrate(api, from_version=1, to_version=2, dry_run=False)["moved"] == [sop.id]
    assert retry(api, sop.id)["status"] == "completed"
    after = api.report(tracking)
    assert after["status"] == "closed"
    assert [e["kind"] for e in after["timeline"]][-2:] == ["rated", "closed"]
