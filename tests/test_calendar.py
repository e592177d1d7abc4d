"""The working-day calendar (sla/calendar.py), pure: no database.

Expected moments are literal and come from the joint ministerial decrees (SKB 3 Menteri):
2025: SKB 1017/2024, 2/2024, 2/2024 as amended by SKB 933/2025, 1/2025, 3/2025 (cuti bersama on
18 August 2025); 2026: SKB 1497/2025, 2/2025, 5/2025 (Idul Fitri 1447 H on 21-22 March, confirmed
by the sidang isbat of 19 March 2026). `DECREE_2025`/`DECREE_2026` below are those decrees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from sla import calendar
from sla.calendar import Adjustment, Holiday, Scope, SkippedDay, WorkingCalendar

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
P, G = "public", "government"  # libur nasional, cuti bersama


def decree(year: int, public: str, government: str) -> dict[date, str]:
    """The days of a decree: `public` (libur nasional) and `government` (cuti bersama), MM-DD."""
    days = {date.fromisoformat(f"{year}-{md}"): P for md in public.split()}
    return days | {date.fromisoformat(f"{year}-{md}"): G for md in government.split()}


# Libur nasional in order: Tahun Baru, Isra Mikraj, Imlek, Nyepi, Idul Fitri (2 days), Wafat
# Yesus Kristus, Paskah, Hari Buruh, Waisak, Kenaikan Yesus Kristus, Pancasila, Idul Adha,
# 1 Muharam, Kemerdekaan, Maulid, Natal (2026 lists Idul Adha before Waisak).
DECREE_2025 = decree(
    2025,
    "01-01 01-27 01-29 03-29 03-31 04-01 04-18 04-20 05-01 05-12 05-29 06-01 06-06 06-27 08-17"
    " 09-05 12-25",
    "01-28 03-28 04-02 04-03 04-04 04-07 05-13 05-30 06-09 08-18 12-26",  # 08-18: SKB 933/2025
)
DECREE_2026 = decree(
    2026,
    "01-01 01-16 02-17 03-19 03-21 03-22 04-03 04-05 05-01 05-14 05-27 05-31 06-01 06-16 08-17"
    " 08-25 12-25",
    "02-16 03-18 03-20 03-23 03-24 05-15 05-28 12-24",
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def due_days(tz: str, start: str, n: int, *adjustments: Adjustment) -> str:
    return WorkingCalendar(tz, adjustments).add_working_days(at(start), n).local_due.isoformat()


@pytest.mark.parametrize(
    ("year", "days", "counts"),
    [(2025, DECREE_2025, {P: 17, G: 11}), (2026, DECREE_2026, {P: 17, G: 8})],
)
def test_library_and_corrections_match_the_decree(
    year: int, days: dict[date, str], counts: dict[str, int]
) -> None:
    assert Counter(days.values()) == counts  # the decree's own totals
    found = {day: h.category for day, hs in calendar.holidays_of_year(year).items() for h in hs}
    assert found == days


@pytest.fixture()
def fresh_holiday_cache() -> Iterator[None]:
    calendar.holidays_of_year.cache_clear()
    yield
    calendar.holidays_of_year.cache_clear()


def test_decree_corrections_add_and_remove_days(
    fresh_holiday_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = Holiday("Cuti Bersama Contoh", "Example Joint Holiday", G)
    corrections = {date(2026, 7, 1): extra, date(2026, 5, 28): None}
    monkeypatch.setattr(calendar, "DECREE_CORRECTIONS", corrections)
    cal = WorkingCalendar(WIB)
    assert cal.why_not_working(date(2026, 7, 1)) == "Cuti Bersama Contoh (cuti bersama)"
    assert cal.is_working_day(date(2026, 5, 28))
    assert calendar.holidays_of_year(2026) is calendar.holidays_of_year(2026)  # cached


def test_why_not_working_names_the_day() -> None:
    cal = WorkingCalendar(WIB)
    assert cal.why_not_working(date(2026, 2, 8)) == "Minggu"
    assert cal.why_not_working(date(2026, 2, 7)) == "Sabtu"
    assert cal.why_not_working(date(2026, 2, 7), english=True) == "Saturday"
    assert cal.why_not_working(date(2026, 3, 19)) == "Hari Suci Nyepi (libur nasional)"
    assert cal.why_not_working(date(2026, 3, 20)) == (
        "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)"
    )
    assert cal.why_not_working(date(2026, 3, 20), english=True) == (
        "Eid al-Fitr Joint Holiday (collective leave)"
    )
    assert cal.why_not_working(date(2026, 3, 21)) == "Sabtu; Hari Raya Idul Fitri (libur nasional)"
    assert cal.why_not_working(date(2026, 3, 25)) is None and cal.is_working_day(date(2026, 3, 25))
    admin = WorkingCalendar(WIB, [Adjustment(date(2026, 2, 10), "holiday", "Pilkada serentak")])
    assert admin.why_not_working(date(2026, 2, 10)) == "ditetapkan admin: Pilkada serentak"
    assert (
        admin.why_not_working(date(2026, 2, 10), english=True) == "set by admin: Pilkada serentak"
    )


def test_idul_fitri_2026_filed_the_friday_before() -> None:
    due = WorkingCalendar(WIB).add_working_days(at("2026-03-13T10:00+07:00"), 5)
    assert due.local_due.isoformat() == "2026-03-27T23:59:59+07:00"
    assert due.due_at == datetime(2026, 3, 27, 16, 59, 59, tzinfo=UTC)
    assert due.start_day == date(2026, 3, 13)
    assert [(s.day.isoformat(), s.reason) for s in due.skipped] == [
        ("2026-03-14", "Sabtu"),
        ("2026-03-15", "Minggu"),
        ("2026-03-18", "Cuti Bersama Hari Suci Nyepi (cuti bersama)"),
        ("2026-03-19", "Hari Suci Nyepi (libur nasional)"),
        ("2026-03-20", "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)"),
        ("2026-03-21", "Sabtu; Hari Raya Idul Fitri (libur nasional)"),
        ("2026-03-22", "Minggu; Hari kedua dari Hari Raya Idul Fitri (libur nasional)"),
        ("2026-03-23", "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)"),
        ("2026-03-24", "Cuti Bersama Hari Raya Idul Fitri (cuti bersama)"),
    ]


def test_filed_on_cuti_bersama_nyepi_counts_from_the_next_working_day() -> None:
    cal = WorkingCalendar(WIB)
    due = cal.add_working_days(at("2026-03-18T09:00+07:00"), 3)
    assert due.start_day == date(2026, 3, 25)
    assert due.local_due.isoformat() == "2026-03-30T23:59:59+07:00"
    assert [s.day.day for s in due.skipped] == [18, 19, 20, 21, 22, 23, 24, 28, 29]
    zero = cal.add_working_days(at("2026-03-18T09:00+07:00"), 0)
    assert zero.local_due.isoformat() == "2026-03-25T23:59:59+07:00"
    assert due_days(WIB, "2026-03-16T09:00+07:00", 0) == "2026-03-16T23:59:59+07:00"


def test_before_nyepi_in_bali_wita() -> None:
    due = WorkingCalendar(WITA).add_working_days(at("2026-03-17T14:00+08:00"), 1)
    assert due.local_due.isoformat() == "2026-03-25T23:59:59+08:00"
    assert due.due_at == datetime(2026, 3, 25, 15, 59, 59, tzinfo=UTC)


def test_badung_wita_over_ascension_and_its_cuti_bersama() -> None:
    due = WorkingCalendar(WITA).add_working_days(at("2026-05-13T09:00+08:00"), 2)
    assert due.local_due.isoformat() == "2026-05-19T23:59:59+08:00"
    assert due.due_at.isoformat() == "2026-05-19T15:59:59+00:00"
    assert [s.day.day for s in due.skipped] == [14, 15, 16, 17]


def test_friday_evening_in_papua_wit_uses_the_local_day() -> None:
    due = WorkingCalendar(WIT).add_working_days(at("2026-02-06T21:00+09:00"), 3)
    assert due.start_day == date(2026, 2, 6)  # Friday 21:00 WIT is Friday 12:00 UTC
    assert due.local_due.isoformat() == "2026-02-11T23:59:59+09:00"
    assert due.due_at.isoformat() == "2026-02-11T14:59:59+00:00"
    # Friday 23:30 WIB is already Saturday 01:30 in Jayapura: counting starts on Monday there.
    late = "2026-02-06T23:30+07:00"
    papua = WorkingCalendar(WIT).add_working_days(at(late), 3)
    assert papua.start_day == date(2026, 2, 9)
    assert papua.local_due.isoformat() == "2026-02-12T23:59:59+09:00"
    assert due_days(WIB, late, 3) == "2026-02-11T23:59:59+07:00"


def test_weekend_filings() -> None:
    sunday = WorkingCalendar(WIB).add_working_days(at("2026-02-08T10:00+07:00"), 1)
    assert sunday.start_day == date(2026, 2, 9)
    assert sunday.local_due.isoformat() == "2026-02-10T23:59:59+07:00"
    assert sunday.skipped == [SkippedDay(date(2026, 2, 8), "Minggu", "Sunday")]
    # Saturday -> start day Monday -> 1 working day = Tuesday (DOMAIN.md)
    assert due_days(WIB, "2026-02-07T10:00+07:00", 1) == "2026-02-10T23:59:59+07:00"
    # Friday 10:00 + 1 working day = Monday
    assert due_days(WIB, "2026-02-06T10:00+07:00", 1) == "2026-02-09T23:59:59+07:00"
    # the Saturday before Imlek: Monday is cuti bersama, Tuesday Imlek -> start Wednesday
    imlek = WorkingCalendar(WIB).add_working_days(at("2026-02-14T10:00+07:00"), 1)
    assert imlek.start_day == date(2026, 2, 18)
    assert imlek.local_due.isoformat() == "2026-02-19T23:59:59+07:00"


def test_idul_fitri_2025() -> None:
    due = WorkingCalendar(WIB).add_working_days(at("2025-03-27T10:00+07:00"), 3)
    assert due.local_due.isoformat() == "2025-04-10T23:59:59+07:00"
    assert [s.day.isoformat() for s in due.skipped] == [
        "2025-03-28",
        "2025-03-29",
        "2025-03-30",
        "2025-03-31",
        "2025-04-01",
        "2025-04-02",
        "2025-04-03",
        "2025-04-04",
        "2025-04-05",
        "2025-04-06",
        "2025-04-07",
    ]
    assert due.skipped[3].reason == "Hari Raya Idul Fitri (libur nasional)"
    assert due.skipped[4].reason_en == "Eid al-Fitr Second Day (public holiday)"


def test_admin_holiday_moves_the_due_date() -> None:
    start = "2026-02-06T10:00+07:00"
    assert due_days(WIB, start, 3) == "2026-02-11T23:59:59+07:00"
    pilkada = Adjustment(date(2026, 2, 10), "holiday", "Pilkada")
    due = WorkingCalendar(WIB, [pilkada]).add_working_days(at(start), 3)
    assert due.local_due.isoformat() == "2026-02-12T23:59:59+07:00"
    assert SkippedDay(date(2026, 2, 10), "ditetapkan admin: Pilkada", "set by admin: Pilkada") in (
        due.skipped
    )


def test_admin_working_day_on_a_holiday_and_a_saturday() -> None:
    open_20th = Adjustment(date(2026, 3, 20), "working_day", "layanan tetap buka")
    assert due_days(WIB, "2026-03-13T10:00+07:00", 5, open_20th) == "2026-03-26T23:59:59+07:00"
    open_saturday = Adjustment(date(2026, 2, 7), "working_day", "hari kerja pengganti")
    assert due_days(WIB, "2026-02-06T10:00+07:00", 1, open_saturday) == (
        "2026-02-07T23:59:59+07:00"
    )


def test_the_most_specific_scope_wins() -> None:
    day = date(2026, 2, 10)
    national_off = Adjustment(day, "holiday", "libur", Scope.NATIONAL)
    instansi_on = Adjustment(day, "working_day", "buka", Scope.INSTANSI)
    assert WorkingCalendar(WIB, [instansi_on, national_off]).is_working_day(day)
    province_off = Adjustment(day, "holiday", "libur", Scope.PROVINCE)
    regency_on = Adjustment(day, "working_day", "buka", Scope.REGENCY)
    assert WorkingCalendar(WIB, [regency_on, province_off]).is_working_day(day)
    province_on = Adjustment(day, "working_day", "buka", Scope.PROVINCE)
    regency_off = Adjustment(day, "holiday", "libur", Scope.REGENCY)
    assert not WorkingCalendar(WIB, [regency_off, province_on]).is_working_day(day)
    assert WorkingCalendar(WIB, [national_off, Adjustment(day, "working_day", "x")]).is_working_day(
        day
    )  # same scope: the last one given wins


def test_office_hours() -> None:
    def due(start: str, hours: float, cal: WorkingCalendar | None = None) -> str:
        return (
            (cal or WorkingCalendar(WIB)).add_office_hours(at(start), hours).local_due.isoformat()
        )

    assert due("2026-02-09T15:30+07:00", 2) == "2026-02-10T09:30:00+07:00"
    assert due("2026-02-09T06:00+07:00", 2) == "2026-02-09T10:00:00+07:00"  # before opening
    assert due("2026-02-09T14:00+07:00", 2) == "2026-02-09T16:00:00+07:00"  # ends at closing
    assert due("2026-02-06T16:00+07:00", 1) == "2026-02-09T09:00:00+07:00"  # after closing, Fri
    assert due("2026-02-09T08:00+07:00", 20) == "2026-02-11T12:00:00+07:00"  # 8 + 8 + 4
    assert due("2026-02-09T20:00+07:00", 0) == "2026-02-10T08:00:00+07:00"
    assert due("2026-03-18T10:00+07:00", 1) == "2026-03-25T09:00:00+07:00"  # cuti bersama start
    assert due("2026-02-09T15:30+08:00", 2, WorkingCalendar(WITA)) == "2026-02-10T09:30:00+08:00"
    custom = WorkingCalendar(WIB, opens=time(7, 30), closes=time(15, 30))
    result = custom.add_office_hours(at("2026-02-06T15:00+07:00"), 2)
    assert result.local_due.isoformat() == "2026-02-09T09:00:00+07:00"
    assert result.due_at.isoformat() == "2026-02-09T02:00:00+00:00"
    assert result.start_day == date(2026, 2, 6)
    assert [s.reason for s in result.skipped] == ["Sabtu", "Minggu"]


def test_working_days_left() -> None:
    cal = WorkingCalendar(WIB)
    due = at("2026-02-09T23:59:59+07:00")  # Monday
    assert cal.working_days_left(at("2026-02-06T12:00+07:00"), due) == 1.5  # Fri noon
    assert cal.working_days_left(at("2026-02-11T12:00+07:00"), due) == -1.5  # Wed noon
    assert cal.working_days_left(at("2026-02-07T00:00+07:00"), at("2026-02-09T00:00+07:00")) == 0
    assert cal.working_days_left(due, due) == 0.0
    lebaran = at("2026-03-25T23:59:59+07:00")
    assert cal.working_days_left(at("2026-03-17T12:00+07:00"), lebaran) == 1.5
    assert cal.working_days_left(at("2026-03-16T08:00Z"), lebaran) == 2.375  # 15:00 WIB


def test_outer_limit_counts_calendar_days_at_the_same_local_time() -> None:
    limit = WorkingCalendar(WIB).outer_limit(at("2026-03-13T10:00+07:00"))
    assert limit.local_due.isoformat() == "2026-05-12T10:00:00+07:00"
    assert limit.due_at.isoformat() == "2026-05-12T03:00:00+00:00"
    assert limit.skipped == []
    papua = WorkingCalendar(WIT).outer_limit(at("2026-02-06T21:00+09:00"), days=60)
    assert papua.local_due.isoformat() == "2026-04-07T21:00:00+09:00"


def test_bad_input_is_refused() -> None:
    cal = WorkingCalendar(WIB)
    naive = datetime(2026, 3, 13, 10)
    for call in (
        lambda: cal.add_working_days(naive, 1),
        lambda: cal.add_office_hours(naive, 1),
        lambda: cal.working_days_left(naive, at("2026-03-13T10:00+07:00")),
        lambda: cal.outer_limit(naive),
        lambda: cal.add_working_days(at("2026-03-13T10:00+07:00"), -1),
        lambda: cal.add_office_hours(at("2026-03-13T10:00+07:00"), -1),
        lambda: WorkingCalendar("Asia/Nowhere"),
        lambda: WorkingCalendar(WIB, opens=time(16), closes=time(8)),
        lambda: WorkingCalendar(WIB, [Adjustment(date(2026, 1, 2), "holyday", "typo")]),
    ):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(TypeError):
        cal.is_working_day(naive)


def test_every_start_of_2025_and_2026_keeps_the_invariants() -> None:
    """A sweep over every day: the due day is a working day, at 23:59:59 local, exactly N
    working days after the start day, and `skipped` lists every non-working day passed over."""
    cal = WorkingCalendar(WIT)
    day = date(2025, 1, 1)
    while day <= date(2026, 12, 31):
        start = datetime.combine(day, time(12), cal.zone)
        for n in (0, 1, 3):
            due = cal.add_working_days(start, n)
            last = due.local_due.date()
            assert due.local_due.time() == time(23, 59, 59) and cal.is_working_day(last)
            span = [day + timedelta(days=i) for i in range((last - day).days + 1)]
            working = [d for d in span if cal.is_working_day(d)]
            assert working[0] == due.start_day and len(working) == n + 1
            assert [s.day for s in due.skipped] == [d for d in span if d not in working]
        day += timedelta(days=1)
