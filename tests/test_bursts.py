"""Bursts: national admins forward many reports at once, officers link duplicates to a main
report, and one follow-up published for the group reaches every pelapor."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, Report
from sla.models import OutboxMessage
from tests.helpers import Api, problem_of

FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Jalan sudah ditambal oleh DPUPKP pada hari ini."}


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


def open_task_ids(api: Api, username: str, trackings: list[str]) -> list[int]:
    return [api.task_for(username, t)["id"] for t in trackings]


def many(
    api: Api, username: str, task_ids: list[int], data: dict[str, Any], expect: int = 200
) -> Any:
    response = api.call(
        "POST",
        "/api/v1/tasks/complete-many",
        token=api.login(username),
        json={"task_ids": task_ids, "data": data},
    )
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def burst(api: Api, count: int) -> list[str]:
    """`count` reports of one complaint, filed by different pelapor, forwarded to Sleman and
    disposed to its public-works unit, all with the batch endpoint."""
    trackings = [
        api.file(pelapor_email=f"warga{i}@example.org")["tracking_id"] for i in range(count)
    ]
    forwarded = many(api, "nasional", open_task_ids(api, "nasional", trackings), FORWARD)
    assert forwarded["completed"] == count
    disposed = many(api, "sleman", open_task_ids(api, "sleman", trackings), DISPOSE)
    assert disposed["completed"] == count
    return trackings


def test_forward_many_answers_each_task_on_its_own(api: Api) -> None:
    trackings = [api.file()["tracking_id"] for _ in range(3)]
    ids = open_task_ids(api, "nasional", trackings)
    done = many(api, "nasional", [ids[0], 999_999, ids[1], ids[0], ids[2]], FORWARD)
    assert done["completed"] == 3
    assert [(r["task_id"], r["status"]) for r in done["results"]] == [
        (ids[0], 200),
        (999_999, 404),
        (ids[1], 200),
        (ids[2], 200),
    ]
    assert {r["tracking_id"] for r in done["results"] if r["status"] == 200} == set(trackings)
    assert all(api.report(t)["status"] == "forwarded" for t in trackings)
    again = many(api, "nasional", ids[:1], FORWARD)
    assert again["completed"] == 0 and again["results"][0]["status"] in (404, 409)


def test_one_follow_up_for_a_linked_group_reaches_every_pelapor(api: Api, factory: Any) -> None:
    main, second, third = burst(api, 3)
    token = api.login("sleman.pu")
    for duplicate in (second, third):
        linked = api.call(
            "POST", f"/api/v1/reports/{main}/duplicates", token=token, json={"duplicate": duplicate}
        )
        assert linked.status_code == 201, linked.get_json()
    assert linked.get_json()["duplicates"] == [second, third]

    task = api.task_for("sleman.pu", main)
    group = api.call(
        "POST", f"/api/v1/tasks/{task['id']}/complete-group", token=token, json={"data": FOLLOW_UP}
    )
    assert group.status_code == 200, group.get_json()
    body = group.get_json()
    assert body["completed"] == 3
    assert [r["tracking_id"] for r in body["results"]] == [main, second, third]
    assert all(api.report(t)["status"] == "followed_up" for t in (main, second, third))
    with factory() as s:
        mailed = set(
            s.scalars(
                select(OutboxMessage.recipient).where(
                    OutboxMessage.channel == "email", OutboxMessage.subject.like("%tindak lanjut%")
                )
            )
        ) or set(s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.channel == "email")))
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "report.duplicate_linked")
        ).all()
    assert {"warga0@example.org", "warga1@example.org", "warga2@example.org"} <= mailed
    assert len(actions) == 2


def test_linking_rules(api: Api, factory: Any) -> None:
    main, second, third = burst(api, 3)
    token = api.login("sleman.pu")

    def link(main_id: str, duplicate: str, expect: int) -> dict[str, Any]:
        response = api.call(
            "POST",
            f"/api/v1/reports/{main_id}/duplicates",
            token=token,
            json={"duplicate": duplicate},
        )
        if expect >= 400:
            return problem_of(response, expect)
        assert response.status_code == expect, response.get_json()
        return dict(response.get_json())

    assert link(main, main, 422)["field"] == "duplicate"
    link(main, second, 201)
    assert link(second, third, 409)["field"] == "tracking_id"  # second is itself a duplicate
    assert link(third, second, 409)["field"] == "duplicate"  # already linked
    # a report of another instansi looks like a missing one
    elsewhere = api.file(target_instansi="51.03", region_code="51.03")["tracking_id"]
    api.complete("nasional", elsewhere, {"outcome": "forward", "target_instansi": "51.03"})
    assert link(main, elsewhere, 404)["field"] == "duplicate"
    assert link("NOT-A-TRACKING", second, 404)["field"] == "tracking_id"

    # the main report's duplicates move when it becomes a duplicate of another
    link(third, main, 201)
    listed = api.call("GET", f"/api/v1/reports/{third}/duplicates", token=token).get_json()
    assert sorted(listed["duplicates"]) == sorted([main, second])

    unlinked = api.call("DELETE", f"/api/v1/reports/{third}/duplicates/{second}", token=token)
    assert unlinked.status_code == 200 and unlinked.get_json()["duplicates"] == [main]
    again = api.call("DELETE", f"/api/v1/reports/{third}/duplicates/{second}", token=token)
    assert problem_of(again, 404)["field"] == "duplicate"
    with factory() as s:
        row = s.scalar(select(Report).where(Report.tracking_id == second))
        assert row is not None and row.duplicate_of_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task_ids": [], "data": {}}, "task_ids"),
        ({"task_ids": list(range(1, 202)), "data": {}}, "task_ids"),
        ({"task_ids": ["1"], "data": {}}, "task_ids"),
        ({"task_ids": [0], "data": {}}, "task_ids"),
        ({"task_ids": [1]}, "data"),
    ],
)
def test_bad_batches_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.call(
        "POST", "/api/v1/tasks/complete-many", token=api.login("nasional"), json=body
    )
    assert problem_of(response, 422)["field"].split(".")[0] == field


def test_group_follow_up_of_an_invisible_task_is_404(api: Api) -> None:
    (main,) = burst(api, 1)
    task = api.task_for("sleman.pu", main)
    response = api.call(
        "POST",
        f"/api/v1/tasks/{task['id']}/complete-group",
        token=api.login("badung"),
        json={"data": FOLLOW_UP},
    )
    assert problem_of(response, 404)["field"] == "task_id"
