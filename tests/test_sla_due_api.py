"""`GET /api/v1/sla/due` and `lapor sla due` on the seeded registry, with admin adjustments and
office hours from the database (sla/calendar_service.py).

Expected moments are literal, from the SKB 3 Menteri on 2026 holidays and cuti bersama (see
tests/test_calendar.py). Needs `api.rest.sla.blp` registered in `create_app` and the `sla` group
added to `lapor`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from engine.errors import Conflict, DomainError, InvalidInput, NotFound
from engine.models import Instansi, User
from sla import calendar_service
from sla.models import OfficeHours
from tests.helpers import problem_of

URL = "/api/v1/sla/due"
GOOD: dict[str, Any] = {"from": "2026-03-13T10:00+07:00", "working_days": 5, "instansi": "34.04"}
IDUL_FITRI_SKIPPED = [
    ("2026-03-14", "Sabtu", "Saturday"),
    ("2026-03-15", "Minggu", "Sunday"),
    (
        "2026-03-18",
        "Cuti Bersama Hari Suci Nyepi (cuti bersama)",
        "Day of Silence Joint Holiday (collective leave)",
    ),
    ("2026-03-19", "Hari Suci Nyepi (libur nasional)", "Day of Silence (public holiday)"),
    (
        "2026-03-20",
        "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)",
        "Eid al-Fitr Joint Holiday (collective leave)",
    ),
    (
        "2026-03-21",
        "Sabtu; Hari Raya Idul Fitri (libur nasional)",
        "Saturday; Eid al-Fitr (public holiday)",
    ),
    (
        "2026-03-22",
        "Minggu; Hari kedua dari Hari Raya Idul Fitri (libur nasional)",
        "Sunday; Eid al-Fitr Second Day (public holiday)",
    ),
    (
        "2026-03-23",
        "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)",
        "Eid al-Fitr Joint Holiday (collective leave)",
    ),
    (
        "2026-03-24",
        "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)",
        "Eid al-Fitr Joint Holiday (collective leave)",
    ),
]


def due(client: Any, **query: Any) -> dict[str, Any]:
    response = client.get(URL, query_string=query)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_due_before_idul_fitri_2026(client: Any) -> None:
    body = due(client, **GOOD)
    assert body == {
        "from": "2026-03-13T10:00:00+07:00",
        "instansi": {"code": "34.04", "name": "Kabupaten Sleman", "timezone": "Asia/Jakarta"},
        "start_day": "2026-03-13",
        "due_at": "2026-03-27T23:59:59+07:00",
        "due_at_utc": "2026-03-27T16:59:59+00:00",
        "working_days": 5,
        "skipped": [{"day": d, "reason": r, "reason_en": e} for d, r, e in IDUL_FITRI_SKIPPED],
    }


def test_an_unencoded_plus_in_the_query_string_still_reads_as_the_offset(client: Any) -> None:
    response = client.get(f"{URL}?from=2026-03-13T10:00+07:00&working_days=5&instansi=34.04")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["due_at"] == "2026-03-27T23:59:59+07:00"


def test_due_in_wita_and_wit_and_in_office_hours(client: Any) -> None:
    badung = due(
        client, **{"from": "2026-03-18T09:00+08:00", "working_days": 3, "instansi": "51.03"}
    )
    assert badung["instansi"]["timezone"] == "Asia/Makassar"
    assert badung["start_day"] == "2026-03-25"
    assert (badung["due_at"], badung["due_at_utc"]) == (
        "2026-03-30T23:59:59+08:00",
        "2026-03-30T15:59:59+00:00",
    )
    # Friday 23:30 WIB is Saturday 01:30 in Kabupaten Jayapura: counting starts on Monday.
    papua = due(
        client, **{"from": "2026-02-06T23:30+07:00", "working_days": 3, "instansi": "91.03"}
    )
    assert (papua["start_day"], papua["due_at"]) == ("2026-02-09", "2026-02-12T23:59:59+09:00")
    hours = due(
        client, **{"from": "2026-02-09T15:30+07:00", "working_hours": 2, "instansi": "34.04"}
    )
    assert hours["due_at"] == "2026-02-10T09:30:00+07:00" and hours["working_hours"] == 2
    assert "working_days" not in hours and hours["skipped"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": "2026-03-13T10:00"}, "from"),  # no offset
        ({"from": "13/03/2026"}, "from"),
        ({"from": None}, "from"),
        ({"from": "1900-03-13T10:00+07:00"}, "from"),
        ({"working_days": None}, "working_days"),  # neither
        ({"working_hours": 1}, "working_days"),  # both
        ({"working_days": -1}, "working_days"),
        ({"working_days": 366}, "working_days"),
        ({"working_days": "x"}, "working_days"),
        ({"working_days": None, "working_hours": 999}, "working_hours"),
        ({"instansi": "99.99"}, "instansi"),
        ({"instansi": "34\x0004"}, "instansi"),
        ({"instansi": None}, "instansi"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: Any, change: dict[str, Any], field: str
) -> None:
    query = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    body = problem_of(client.get(URL, query_string=query), 422)
    assert body["field"] == field and body["code"] == "invalid", body


def sleman_and_badung(client: Any) -> tuple[str, str]:
    """(Sleman, Badung) due moments of 3 working days from Friday 2026-02-06 10:00 local."""
    sleman = due(
        client, **{"from": "2026-02-06T10:00+07:00", "working_days": 3, "instansi": "34.04"}
    )
    badung = due(
        client, **{"from": "2026-02-06T10:00+08:00", "working_days": 3, "instansi": "51.03"}
    )
    return sleman["due_at"][:10], badung["due_at"][:10]


def adjust(factory: Any, day: date, kind: str, reason: str, **scope: str) -> int:
    with factory() as s, s.begin():
        row = calendar_service.add_adjustment(
            s, day=day, kind=kind, reason=reason, actor="system", **scope
        )
        return int(row.id)


def test_adjustments_by_scope_move_due_dates(client: Any, factory: Any) -> None:
    tuesday = date(2026, 2, 10)
    assert sleman_and_badung(client) == ("2026-02-11", "2026-02-11")
    diy = adjust(factory, tuesday, "holiday", "Hari jadi DIY", region_code="34")
    assert sleman_and_badung(client) == ("2026-02-12", "2026-02-11")  # province 34 only
    body = due(client, **{"from": "2026-02-06T10:00+07:00", "working_days": 3, "instansi": "34.04"})
    assert body["skipped"][-1] == {
        "day": "2026-02-10",
        "reason": "ditetapkan admin: Hari jadi DIY",
        "reason_en": "set by admin: Hari jadi DIY",
    }
    with factory() as s, s.begin():
        calendar_service.remove_adjustment(s, adjustment_id=diy, actor="system")
    assert sleman_and_badung(client) == ("2026-02-11", "2026-02-11")
    adjust(factory, tuesday, "holiday", "libur nasional tambahan")
    adjust(factory, tuesday, "working_day", "pelayanan tetap buka", instansi_code="34.04")
    assert sleman_and_badung(client) == ("2026-02-11", "2026-02-12")  # the instansi's own wins


def test_admin_working_day_on_cuti_bersama(client: Any, factory: Any) -> None:
    adjust(factory, date(2026, 3, 20), "working_day", "pelayanan tetap buka")
    body = due(client, **GOOD)
    assert body["due_at"] == "2026-03-26T23:59:59+07:00"
    assert "2026-03-20" not in [s["day"] for s in body["skipped"]]


def test_office_hours_of_the_instansi(client: Any, factory: Any) -> None:
    with factory() as s, s.begin():
        sleman = s.scalar(select(Instansi).where(Instansi.code == "34.04"))
        s.add(OfficeHours(instansi_id=sleman.id, opens="07:30", closes="15:30"))
    body = due(
        client, **{"from": "2026-02-06T15:00+07:00", "working_hours": 2, "instansi": "34.04"}
    )
    assert body["due_at"] == "2026-02-09T09:00:00+07:00"
    assert [s["reason"] for s in body["skipped"]] == ["Sabtu", "Minggu"]


def test_adjustment_writes_refuse_bad_input(factory: Any) -> None:
    good: dict[str, Any] = {
        "day": date(2026, 2, 10),
        "kind": "holiday",
        "reason": "Pilkada",
        "actor": "system",
    }
    cases: list[tuple[dict[str, Any], type[DomainError], str]] = [
        ({**good, "kind": "holyday"}, InvalidInput, "kind"),
        ({**good, "reason": "  "}, InvalidInput, "reason"),
        ({**good, "reason": "a\x00b"}, InvalidInput, "reason"),
        ({**good, "region_code": "34", "instansi_code": "34.04"}, InvalidInput, "region_code"),
        ({**good, "region_code": "99"}, InvalidInput, "region_code"),
        ({**good, "instansi_code": "NOPE"}, InvalidInput, "instansi"),
        ({**good, "actor": "user:987654"}, InvalidInput, "actor"),
        ({**good, "actor": ""}, InvalidInput, "actor"),
    ]
    with factory() as s, s.begin():
        for kwargs, error, field in cases:
            with pytest.raises(error) as caught:
                calendar_service.add_adjustment(s, **kwargs)
            assert caught.value.field == field, kwargs
        user_id = s.scalar(select(User.id).where(User.username == "nasional"))
        row = calendar_service.add_adjustment(s, **{**good, "actor": f"user:{user_id}"})
        assert (row.created_by_id, row.removed_at) == (user_id, None)
        with pytest.raises(Conflict) as twice:
            calendar_service.add_adjustment(s, **{**good, "kind": "working_day"})
        assert twice.value.field == "day"
        calendar_service.remove_adjustment(s, adjustment_id=row.id, actor="system")
        assert row.removed_at is not None
        with pytest.raises(Conflict):
            calendar_service.remove_adjustment(s, adjustment_id=row.id, actor="system")
        with pytest.raises(NotFound):
            calendar_service.remove_adjustment(s, adjustment_id=987654321, actor="system")
        again = calendar_service.add_adjustment(s, **good)  # the removed one no longer counts
        assert again.id != row.id


def run(database_url: str, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    return CliRunner().invoke(main, ["sla", "due", *args])


def test_cli_prints_the_due_moment_and_skipped_days(database_url: str, monkeypatch: Any) -> None:
    result = run(
        database_url,
        monkeypatch,
        "--from",
        "2026-03-13T10:00+07:00",
        "--working-days",
        "5",
        "--instansi",
        "34.04",
    )
    assert result.exit_code == 0, result.output
    lines = [
        "Instansi: 34.04 Kabupaten Sleman (Asia/Jakarta)",
        "Mulai (from): 2026-03-13T10:00:00+07:00, 5 hari kerja (5 working days)",
        "Hari mulai (start day): 2026-03-13 Jumat (Friday)",
        "Tenggat (due): 2026-03-27T23:59:59+07:00 Jumat (Friday)",
        "Tenggat UTC (due, UTC): 2026-03-27T16:59:59+00:00",
        "Hari dilewati (skipped days): 9",
        *(f"  {d}: {r} ({e})" for d, r, e in IDUL_FITRI_SKIPPED),
    ]
    assert result.output.splitlines() == lines
    hours = run(
        database_url,
        monkeypatch,
        "--from",
        "2026-02-09T15:30+08:00",
        "--working-hours",
        "2",
        "--instansi",
        "51.03",
    )
    assert hours.exit_code == 0, hours.output
    assert "Tenggat (due): 2026-02-10T09:30:00+08:00 Selasa (Tuesday)" in hours.output
    assert "2 jam kerja (2 office hours)" in hours.output


@pytest.mark.parametrize(
    ("change", "option", "message"),
    [
        ({"--from": "2026-03-13T10:00"}, "--from", "needs a UTC offset"),
        ({"--from": "kemarin"}, "--from", "not an ISO 8601 moment"),
        ({"--working-days": None}, "--working-days", "exactly one of"),
        ({"--working-days": "400"}, "--working-days", "0<=x<=365"),
        ({"--instansi": "99.99"}, "--instansi", "unknown instansi '99.99'"),
        ({"--instansi": None}, "--instansi", "Missing"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_option(
    database_url: str, monkeypatch: Any, change: dict[str, str | None], option: str, message: str
) -> None:
    options: dict[str, str | None] = {
        "--from": GOOD["from"],
        "--working-days": "5",
        "--instansi": "34.04",
        **change,
    }
    args = [part for k, v in options.items() if v is not None for part in (k, v)]
    result = run(database_url, monkeypatch, *args)
    assert result.exit_code == 2, result.output
    assert f"'{option}'" in result.output and message in result.output, result.output
