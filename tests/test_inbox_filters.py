"""The officer's task inbox filters and pages in SQL: a task far beyond the first 200 rows is found
by each filter, pages follow the due order, and the SLA state filter picks exactly the tasks whose
badge shows that state, on the WITA calendar of the officer's instansi."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from engine import clock
from engine.errors import InvalidInput
from engine.models import HumanTask, Instansi, User
from engine.seed.loader import DEMO_PASSWORD
from sla.models import Escalation
from tests.browser.test_login_pages import sign_in_client
from tests.helpers import Api

WIB = timezone(timedelta(hours=7))
WITA = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 2, 2, 9, 0, tzinfo=WIB)  # a working Monday, no holiday that week
FILLERS = 250


@pytest.fixture()
def api(app: Flask) -> Api:
    client = app.test_client()
    return Api(lambda: nullcontext(client))


def principal(factory: Any, username: str) -> Any:
    from engine.services import auth

    with factory() as s:
        token, _row = auth.login(s, username=username, password=DEMO_PASSWORD)
        return auth.authenticate(s, token=token)


def copies(factory: Any, task_id: int, dues: list[datetime], **values: Any) -> list[int]:
    """Open copies of task `task_id` due at `dues`, inserted in one statement; their ids."""
    with factory() as s, s.begin():
        task = s.get(HumanTask, task_id)
        assert task is not None
        keep = ("instance_id", "report_id", "bpmn_id", "name", "lane", "role", "milestone")
        base = {name: getattr(task, name) for name in keep}
        base |= {"instansi_id": task.instansi_id, "unit_id": task.unit_id, "status": "open"}
        rows = [
            {
                **base,
                "task_guid": f"copy-{task_id}-{n:04d}",
                "created_at": MONDAY,
                "due_at": due,
                **values,
            }
            for n, due in enumerate(dues)
        ]
        s.execute(insert(HumanTask), rows)
        found = s.scalars(
            select(HumanTask.id)
            .where(HumanTask.task_guid.like(f"copy-{task_id}-%"))
            .order_by(HumanTask.task_guid)
        )
        return list(found)


def set_task(factory: Any, task_id: int, **values: Any) -> None:
    with factory() as s, s.begin():
        s.execute(update(HumanTask).where(HumanTask.id == task_id).values(**values))


def cards(html: str) -> int:
    return html.count('<li class="task-card">')


def test_each_filter_finds_the_task_beyond_the_first_200_rows(
    client: FlaskClient, api: Api, factory: Any
) -> None:
    clock.set_clock(MONDAY)
    crowd, target = api.file()["tracking_id"], api.file()["tracking_id"]
    crowd_task = int(api.task_for("nasional", crowd)["id"])
    target_task = int(api.task_for("nasional", target)["id"])
    dues = [MONDAY + timedelta(minutes=1 + n) for n in range(FILLERS)]  # all due today
    fillers = copies(factory, crowd_task, dues)
    set_task(factory, crowd_task, due_at=MONDAY - timedelta(hours=1))  # the one overdue
    set_task(factory, fillers[-1], milestone="follow-up")  # the last filler, 251st by due time
    with factory() as s:
        me = s.scalar(select(User.id).where(User.username == "nasional"))
    far = MONDAY + timedelta(days=10)  # the last of all by due time, and the only one on time
    set_task(factory, target_task, due_at=far, assignee_id=me, claimed_at=MONDAY)

    sign_in_client(client, "nasional")
    first = client.get("/tugas").get_data(as_text=True)
    assert cards(first) == 50 and "252 tugas, tenggat terdekat di atas." in first
    assert target not in first and "Halaman 1 dari 6" in first
    assert 'href="/tugas?halaman=2" rel="next"' in first and 'rel="prev"' not in first
    last = client.get("/tugas?halaman=6").get_data(as_text=True)
    assert cards(last) == 2 and target in last and 'href="/tugas?halaman=5" rel="prev"' in last

    mine = client.get("/tugas?who=mine").get_data(as_text=True)
    assert cards(mine) == 1 and target in mine and "1 tugas," in mine
    on_time = client.get("/tugas?state=on_time").get_data(as_text=True)
    assert cards(on_time) == 1 and target in on_time
    overdue = client.get("/tugas?state=overdue").get_data(as_text=True)
    assert cards(overdue) == 1 and crowd in overdue and target not in overdue
    follow_up = client.get("/tugas?milestone=follow-up").get_data(as_text=True)
    assert cards(follow_up) == 1 and f'href="/tugas/{fillers[-1]}"' in follow_up
    soon = client.get("/tugas?state=due_soon&who=unclaimed&halaman=5").get_data(as_text=True)
    assert cards(soon) == 50 and "250 tugas," in soon and "Halaman 5 dari 5" in soon
    assert "state=due_soon" in soon and "who=unclaimed" in soon  # the pager keeps the filters
    assert f'href="/tugas/{fillers[-1]}"' in soon  # the latest due of them, on the last page
    assert cards(client.get("/tugas?state=escalated").get_data(as_text=True)) == 0


def test_the_service_pages_in_due_order_and_refuses_unknown_filters(api: Api, factory: Any) -> None:
    from engine.services import tasks
    from sla import views

    clock.set_clock(MONDAY)
    tracking = api.file()["tracking_id"]
    first = int(api.task_for("nasional", tracking)["id"])
    ids = copies(factory, first, [MONDAY + timedelta(hours=n) for n in (3, 1, 2)])
    set_task(factory, first, due_at=None)  # no due time: last
    nasional = principal(factory, "nasional")
    listed = [t.id for t in tasks.list_for(factory(), principal=nasional, limit=2, offset=1)]
    assert listed == [ids[2], ids[0]]
    assert tasks.count_for(factory(), principal=nasional, milestone="verification") == 4
    assert tasks.count_for(factory(), principal=nasional, milestone="disposition") == 0
    assert [t.id for t in tasks.list_for(factory(), principal=nasional, ids=[ids[1], 0])] == [
        ids[1]
    ]
    page = views.inbox(factory(), principal=nasional, state="due_soon", limit=1, offset=1)
    assert page.total == 3 and [(r.task.id, s.state) for r, s in page.rows] == [
        (ids[2], "due_soon")
    ]
    assert page.rows[0][0].tracking_id == tracking
    with pytest.raises(InvalidInput):
        tasks.list_for(factory(), principal=nasional, who="everyone")
    with pytest.raises(InvalidInput):
        views.inbox(factory(), principal=nasional, state="late")
    badung = principal(factory, "badung")  # another instansi sees none of them
    assert views.inbox(factory(), principal=badung).total == 0


def test_the_state_filter_matches_the_badges_on_the_officers_wita_calendar(
    api: Api, factory: Any
) -> None:
    from sla import views

    friday = datetime(2026, 2, 6, 15, 0, tzinfo=WITA)
    monday = datetime(2026, 2, 9, 15, 0, tzinfo=WITA)
    clock.set_clock(friday - timedelta(days=4))
    tracking = api.file(region_code="51.03", target_instansi="51.03")["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "51.03"})
    task = int(api.task_for("badung", tracking)["id"])
    clock.set_clock(friday)
    dues = {
        "just overdue": friday - timedelta(seconds=1),
        "due now": friday,
        "saturday": friday + timedelta(hours=21),
        "sunday night": monday - timedelta(hours=15, seconds=1),  # Sun 23:59:59: 9 h left
        "monday, 1 day left": monday,
        "monday, 1.0049 days": monday + timedelta(minutes=7),  # shown as 1 day: still soon
        "monday, 1.0056 days": monday + timedelta(minutes=8),  # shown as 1,01: on time
        "tuesday": monday + timedelta(days=1),
        "escalated": friday - timedelta(days=1),
    }
    ids = dict(zip(dues, copies(factory, task, list(dues.values())), strict=True))
    set_task(factory, task, due_at=None)
    with factory() as s, s.begin():
        report_id = s.get(HumanTask, task).report_id  # type: ignore[union-attr]
        badung_id = s.scalar(select(Instansi.id).where(Instansi.code == "51.03"))
        assert s.get(Instansi, badung_id).timezone == "Asia/Makassar"  # type: ignore[union-attr]
        s.add(
            Escalation(
                report_id=report_id,
                task_id=ids["escalated"],
                level=1,
                from_instansi_id=badung_id,
                to_instansi_id=badung_id,
                reason="overdue",
                created_at=friday,
            )
        )
    badung = principal(factory, "badung")
    with factory() as s:
        rows = list(s.scalars(select(HumanTask).where(HumanTask.id.in_(ids.values()))))
        s.expunge_all()
    badges = {task_id: sla.state for task_id, sla in views.task_sla(factory(), rows).items()}
    names = {v: k for k, v in ids.items()}
    for state in views.STATES:
        page = views.inbox(factory(), principal=badung, state=state)
        found = {names[row.task.id] for row, _sla in page.rows}
        assert found == {names[i] for i, badge in badges.items() if badge == state}, state
        assert page.total == len(found)
    by_name = {names[i]: badge for i, badge in badges.items()}
    assert by_name["monday, 1.0049 days"] == "due_soon" and by_name["sunday night"] == "due_soon"
    assert by_name["monday, 1.0056 days"] == "on_time" and by_name["due now"] == "due_soon"
    assert by_name["just overdue"] == "overdue" and by_name["escalated"] == "escalated"
