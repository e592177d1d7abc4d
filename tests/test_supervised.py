"""`sla.supervised`: the overdue list of a supervised tree (recursive, filtered, paginated in
SQL), one report as its supervisor sees it (no anonymous identity), and the alert counts.

Dates as in test_supervision: Sleman's disposition tasks forwarded on Tuesday 3 and Wednesday
4 February 2026 are due Thursday and Friday; a sweep early Friday escalates the first to the
DI Yogyakarta province (34), whose supervisor is the demo user `diy`.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from engine import clock
from engine.errors import NotFound
from engine.models import Instansi
from engine.seed.loader import DEMO_PASSWORD
from engine.services import auth
from engine.services.auth import Principal
from sla import supervised
from sla.sweep import sweep
from tests.helpers import Api, ensure_user


def at(text: str) -> None:
    clock.set_clock(datetime.fromisoformat(text))


@pytest.fixture()
def api(app: Flask) -> Api:
    return Api(lambda: nullcontext(app.test_client()))


def principal(factory: Any, username: str) -> Principal:
    with factory() as s:
        token, _row = auth.login(s, username=username, password=DEMO_PASSWORD)
    with factory() as s:
        return auth.authenticate(s, token=token)


def two_late_reports(api: Api, factory: Any) -> tuple[str, str]:
    """(escalated, overdue only); the clock then on Saturday 7 February, 10:00 WIB."""
    made = []
    for day, anonim in (("03", True), ("04", False)):
        at("2026-02-02T09:00:00+07:00")
        tracking = api.file(anonim=anonim)["tracking_id"]
        at(f"2026-02-{day}T10:00:00+07:00")
        api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
        made.append(tracking)
    at("2026-02-06T00:00:01+07:00")
    sweep(factory, scheduler="t")
    at("2026-02-07T10:00:00+07:00")
    return made[0], made[1]


def listed(factory: Any, who: Principal, **filters: Any) -> list[tuple[str, int | None]]:
    with factory() as s:
        page = supervised.list_overdue(s, principal=who, **filters)
    return [(row.tracking_id, row.level) for row in page.rows]


def test_the_tree_reaches_down_and_nowhere_else(api: Api, factory: Any) -> None:
    escalated, late = two_late_reports(api, factory)
    diy = principal(factory, "diy")
    assert listed(factory, diy) == [(escalated, 1), (late, None)]  # longest overdue first
    assert listed(factory, principal(factory, "nasional")) == [(escalated, 1), (late, None)]
    assert listed(factory, principal(factory, "sleman")) == [(escalated, 1), (late, None)]
    ensure_user(factory, "sv.bali.tree", [("supervisor", "51", None)])
    assert listed(factory, principal(factory, "sv.bali.tree")) == []
    assert listed(factory, principal(factory, "sleman.pu")) == []  # a unit role supervises none

    assert listed(factory, diy, state="escalated") == [(escalated, 1)]
    assert listed(factory, diy, state="overdue") == [(late, None)]
    assert listed(factory, diy, level=1) == [(escalated, 1)]
    assert listed(factory, diy, level=2) == []
    assert listed(factory, diy, instansi="34.04") == listed(factory, diy, instansi="SLEMAN")
    assert listed(factory, diy, instansi="%") == []  # LIKE wildcards are plain text

    with factory() as s:
        first = supervised.list_overdue(s, principal=diy, per_page=1)
        second = supervised.list_overdue(s, principal=diy, per_page=1, page=2)
    assert (first.has_next, second.has_next) == (True, False)
    assert [r.tracking_id for r in first.rows + second.rows] == [escalated, late]
    row = first.rows[0]
    assert (row.instansi_code, row.milestone, row.working_days_late) == (
        "34.04",
        "disposition",
        1.0,  # due Thursday 23:59:59, only Friday (a working day) has passed since
    )


def test_statements_do_not_grow_with_the_rows(api: Api, factory: Any, db_engine: Any) -> None:
    two_late_reports(api, factory)
    diy = principal(factory, "diy")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        with factory() as s:
            one = len(supervised.list_overdue(s, principal=diy, per_page=1).rows)
            before = len(statements)
            two = len(supervised.list_overdue(s, principal=diy, per_page=2).rows)
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert (one, two) == (1, 2)
    assert len(statements) - before <= before  # the second row costs no extra query
    assert any("RECURSIVE" in sql.upper() for sql in statements)


def test_report_view_hides_an_anonymous_pelapor(api: Api, factory: Any) -> None:
    escalated, late = two_late_reports(api, factory)
    diy = principal(factory, "diy")
    with factory() as s:
        hidden = supervised.report_view(s, principal=diy, tracking_id=escalated)
        named = supervised.report_view(s, principal=diy, tracking_id=late)
    assert hidden.anonim and hidden.pelapor_name is None
    assert "Sentinel" not in repr(hidden) and "sentinel@" not in repr(hidden)
    assert named.pelapor_name == "Sentinel Pelapor" and "sentinel@" not in repr(named)
    assert [(e.level, e.to_code) for e in hidden.escalations] == [(1, "34")]
    assert hidden.can_act and not named.can_act  # only the escalated task is the province's
    assert hidden.units == []  # a disposition task is the instansi's, not a unit's
    with factory() as s:
        codes = set(s.scalars(select(Instansi.code).where(Instansi.code.like("34%"))))
    assert {c.code for c in hidden.instansi} == codes - {"34.04"}

    ensure_user(factory, "sv.bali.view", [("supervisor", "51", None)])
    for who, tracking in ((principal(factory, "sv.bali.view"), escalated), (diy, "NOPE")):
        with factory() as s, pytest.raises(NotFound):
            supervised.report_view(s, principal=who, tracking_id=tracking)


def test_unread_count_and_mark_all_read(api: Api, factory: Any) -> None:
    two_late_reports(api, factory)
    diy = principal(factory, "diy")
    with factory() as s:
        assert supervised.unread_count(s, principal=diy) == 1
        assert supervised.mark_all_read(s, principal=diy) == 1
        assert supervised.unread_count(s, principal=diy) == 0
        assert supervised.mark_all_read(s, principal=diy) == 0
