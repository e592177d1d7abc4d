"""Moving live instances of a process definition from one version to another.

Version 1 of Sleman's SOP is `sop-ops-fixed.bpmn` (the national SOP); version 2 is
`sop-ops-renamed.bpmn`, whose follow-up task has a new id. An instance at `receive` or waiting for
the pelapor's rating can move; one whose `follow_up` task is open cannot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import (
    AuditEvent,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
)
from tests.helpers import Api, deploy_sop, problem_of, sop_instance

FIXTURES = Path(__file__).resolve().parent / "bpmn"
KEY = "sop-34.04"
URL = f"/api/v1/process-definitions/{KEY}/migrations"
T0 = datetime(2033, 3, 7, 2, 0, tzinfo=UTC)
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan minggu depan oleh DPUPKP."}


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    clock.set_clock(T0)
    return Api(fresh_client)


def deploy(factory: Any, fixture: str) -> ProcessDefinition:
    return deploy_sop(factory, "34.04", (FIXTURES / fixture).read_bytes(), KEY)


def sop_of(factory: Any, tracking: str) -> ProcessInstance:
    return sop_instance(factory, tracking)


def version_of(factory: Any, instance_id: int) -> int:
    with factory() as s:
        version = s.scalar(
            select(ProcessDefinition.version)
            .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == instance_id)
        )
        assert version is not None
        return int(version)


def post(api: Api, body: Any, *, username: str = "nasional", url: str = URL) -> Any:
    return api.call("POST", url, token=api.login(username), json=body)


@pytest.fixture()
def three(api: Api, factory: Any) -> dict[str, Any]:
    """Three reports on version 1: at `receive` (claimed), at `follow_up`, waiting for the
    rating; then version 2 is deployed."""
    deploy(factory, "sop-ops-fixed.bpmn")
    at_receive = api.file()["tracking_id"]
    at_follow_up = api.file()["tracking_id"]
    rated = api.file()
    for tracking in (at_receive, at_follow_up, rated["tracking_id"]):
        api.complete("nasional", tracking, FORWARD)
    for tracking in (at_follow_up, rated["tracking_id"]):
        api.complete("sleman", tracking, DISPOSE)
    api.complete("sleman.pu", rated["tracking_id"], FOLLOW_UP)
    receive_task = api.task_for("sleman", at_receive)
    claimed = api.call(
        "POST", f"/api/v1/tasks/{receive_task['id']}/claim", token=api.login("sleman")
    )
    assert claimed.status_code == 200
    assert deploy(factory, "sop-ops-renamed.bpmn").version == 2
    return {
        "receive": sop_of(factory, at_receive),
        "follow_up": sop_of(factory, at_follow_up),
        "rating": sop_of(factory, rated["tracking_id"]),
        "receive_task": receive_task,
        "rated": rated,
    }


def test_dry_run_lists_movable_and_blocked_instances(api: Api, three: dict[str, Any]) -> None:
    response = post(api, {"from_version": 1, "to_version": 2})  # dry_run is the default
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["key"], body["from_version"], body["to_version"]) == (KEY, 1, 2)
    assert body["dry_run"] is True and body["moved"] == []
    entries = {e["instance_id"]: e for e in body["instances"]}
    receive, follow_up, rating = (three[k].id for k in ("receive", "follow_up", "rating"))
    assert sorted(entries) == sorted([receive, follow_up, rating])
    assert entries[receive]["can_move"] is True and entries[receive]["reasons"] == []
    assert entries[rating]["can_move"] is True
    assert entries[follow_up]["can_move"] is False
    assert entries[follow_up]["reasons"] == [
        "task 'follow_up' (ready) does not exist in the new version"
    ]
    assert entries[follow_up]["tracking_id"] and entries[follow_up]["status"] == "running"
    assert all(entry["moved"] is False for entry in body["instances"])


def test_move_selected_instance_keeps_its_task_and_runs_on_new_version(
    api: Api, factory: Any, three: dict[str, Any]
) -> None:
    receive = three["receive"]
    response = post(
        api, {"from_version": 1, "to_version": 2, "dry_run": False, "instance_ids": [receive.id]}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["moved"] == [receive.id] and body["skipped"] == [] and body["dry_run"] is False

    # only the selected instance moved; the others stay on version 1
    assert version_of(factory, receive.id) == 2
    assert version_of(factory, three["follow_up"].id) == 1
    assert version_of(factory, three["rating"].id) == 1
    with factory() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "instance.migrated")).all()
        assert [(a.instance_id, a.data["from_version"], a.data["to_version"]) for a in audit] == [
            (receive.id, 1, 2)
        ]
        assert audit[0].actor.startswith("user:")
        task = s.get(HumanTask, three["receive_task"]["id"])
        assert task is not None and task.status == "open" and task.assignee_id is not None

    tracking = three["receive_task"]["report"]["tracking_id"]
    assert api.task_for("sleman", tracking)["id"] == three["receive_task"]["id"]
    api.complete("sleman", tracking, DISPOSE)
    follow_up = api.task_for("sleman.pu", tracking)
    assert follow_up["bpmn_id"] == "follow_up_revised" and follow_up["milestone"] == "follow-up"
    assert follow_up["name"] == "Tindak lanjut (revisi)"

    # the instance left on version 1 finishes there
    rated = three["rated"]
    closed = api.reply(
        rated["tracking_id"], rated["secret"], kind="rating", rating=5, satisfied=True
    )
    assert closed["status"] == "closed"
    assert version_of(factory, three["rating"].id) == 1


def test_move_all_moves_those_that_can(api: Api, factory: Any, three: dict[str, Any]) -> None:
    response = post(api, {"from_version": 1, "to_version": 2, "dry_run": False})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert sorted(body["moved"]) == sorted([three["receive"].id, three["rating"].id])
    assert body["skipped"] == [three["follow_up"].id]
    (blocked,) = [e for e in body["instances"] if not e["moved"]]
    assert blocked["reasons"] == ["task 'follow_up' (ready) does not exist in the new version"]
    assert version_of(factory, three["follow_up"].id) == 1

    rated = three["rated"]  # moved while waiting for the rating: the message still arrives
    closed = api.reply(
        rated["tracking_id"], rated["secret"], kind="rating", rating=4, satisfied=True
    )
    assert closed["status"] == "closed"

    again = post(api, {"from_version": 1, "to_version": 2})
    assert [e["instance_id"] for e in again.get_json()["instances"]] == [three["follow_up"].id]


def test_designers_may_plan_others_may_not(api: Api, three: dict[str, Any]) -> None:
    assert post(api, {"from_version": 1, "to_version": 2}, username="designer").status_code == 200
    for username in ("sleman", "sleman.pu", "diy"):
        response = post(api, {"from_version": 1, "to_version": 2}, username=username)
        assert problem_of(response, 403)["field"] == "role"
    anonymous = api.call("POST", URL, json={"from_version": 1, "to_version": 2})
    assert problem_of(anonymous, 401)["field"] == "Authorization"


@pytest.mark.parametrize(
    ("url", "body", "status", "field"),
    [
        (
            "/api/v1/process-definitions/no-such-key/migrations",
            {"from_version": 1, "to_version": 2},
            404,
            "key",
        ),
        (
            "/api/v1/process-definitions/" + "k" * 65 + "/migrations",
            {"from_version": 1, "to_version": 2},
            404,
            "key",
        ),
        (
            "/api/v1/process-definitions/a%00b/migrations",
            {"from_version": 1, "to_version": 2},
            422,
            "key",
        ),
        (URL, {"from_version": 1, "to_version": 7}, 404, "to_version"),
        (URL, {"from_version": 9, "to_version": 2}, 404, "from_version"),
        (URL, {"from_version": 2, "to_version": 2}, 422, "to_version"),
        (URL, {"to_version": 2}, 422, "from_version"),
        (URL, {"from_version": "1", "to_version": 2}, 422, "from_version"),
        (URL, {"from_version": 0, "to_version": 2}, 422, "from_version"),
        (URL, {"from_version": 1, "to_version": 2**40}, 422, "to_version"),
        (URL, {"from_version": 1, "to_version": 2, "dry_run": "maybe"}, 422, "dry_run"),
        (URL, {"from_version": 1, "to_version": 2, "instance_ids": []}, 422, "instance_ids"),
        (URL, {"from_version": 1, "to_version": 2, "instance_ids": "3"}, 422, "instance_ids"),
        (URL, {"from_version": 1, "to_version": 2, "instance_ids": [0]}, 422, "instance_ids.0"),
        (URL, {"from_version": 1, "to_version": 2, "unknown": 1}, 422, "unknown"),
        (URL, [1, 2], 422, None),
    ],
)
def test_bad_migration_requests_are_4xx_naming_the_field(
    api: Api, factory: Any, url: str, body: Any, status: int, field: str | None
) -> None:
    deploy(factory, "sop-ops-fixed.bpmn")
    deploy(factory, "sop-ops-renamed.bpmn")
    assert problem_of(post(api, body, url=url), status)["field"] == field


def test_instances_not_of_the_version_are_refused(api: Api, three: dict[str, Any]) -> None:
    intake_id = three["receive"].parent_id
    response = post(
        api,
        {
            "from_version": 1,
            "to_version": 2,
            "dry_run": False,
            "instance_ids": [three["receive"].id, intake_id, 987654321],
        },
    )
    body = problem_of(response, 422)
    assert body["field"] == "instance_ids" and str(intake_id) in body["detail"]
    assert "987654321" in body["detail"]
