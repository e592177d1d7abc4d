"""The working-day calendar of one instansi: pure date arithmetic, no database.

A working day is Monday to Friday in the instansi's own time zone, minus Indonesia's national
holidays (`public`) and cuti bersama (`government`) from the `holidays` package, with admin
adjustments on top: an in-force `holiday` makes any day non-working, a `working_day` makes any
day working (a library holiday, or a weekend day an admin explicitly opened). When several
adjustments fall on one day, the most specific scope wins (instansi > regency > province >
national); within one scope, the last one given wins.

Deadlines (DOMAIN.md "Working days"):
- N working days from a moment end at 23:59:59 local time of the Nth working day after the start
  day; the start day is the moment's local date, or the next working day when that date is not a
  working day. N = 0 is the end of the start day.
- N office hours count only the office hours of working days (default 08:00-16:00 local): a start
  inside office hours counts from that moment, before opening from the opening, after closing or
  on a non-working day from the next opening; the deadline is the moment the Nth hour ends.
- The statutory outer limit (Perpres 76/2013: 60 days) counts calendar days: the same local time
  60 days later. Indonesia has no daylight saving time, so that is exactly 60 x 24 hours.

Holidays are looked up once per year and cached for the process: this runs on every task opening.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

ADJUSTMENT_KINDS = ("holiday", "working_day")
DEFAULT_OPENS = time(8)
DEFAULT_CLOSES = time(16)
END_OF_DAY = time(23, 59, 59)
OUTER_LIMIT_DAYS = 60
ONE_DAY = timedelta(days=1)
MAX_SCAN_DAYS = 366  # consecutive non-working days before we call the calendar broken
WEEKDAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CATEGORY_LABELS = {  # holidays category -> (Indonesian, English) label in explanations
    "public": ("libur nasional", "public holiday"),
    "government": ("cuti bersama", "collective leave"),
}


@dataclass(frozen=True)
class Holiday:
    name: str  # Indonesian, as the decree names it (user-facing)
    name_en: str
    category: str  # "public" (libur nasional) | "government" (cuti bersama)


# Corrections of the library against the joint ministerial decrees (SKB 3 Menteri), applied on
# top of `holidays`: a Holiday adds or renames the day, None removes a day the decree does not
# have. Checked against holidays 0.109 for 2025 (SKB 1017/2024, 2/2024, 2/2024 as amended by
# SKB 933/2025, 1/2025, 3/2025 adding cuti bersama on 18 August) and 2026 (SKB 1497/2025,
# 2/2025, 5/2025; Idul Fitri 1447 H confirmed on 21 March by the sidang isbat): no difference,
# so the table is empty. Add a row here when a decree is revised before the library catches up;
# tests/test_calendar.py holds the decree lists the calendar must match.
DECREE_CORRECTIONS: Mapping[date, Holiday | None] = MappingProxyType({})


@lru_cache(maxsize=64)
def holidays_of_year(year: int) -> Mapping[date, tuple[Holiday, ...]]:
    """National holidays and cuti bersama of `year` (library + DECREE_CORRECTIONS), cached."""
    found: dict[date, list[Holiday]] = {}
    for category in CATEGORY_LABELS:
        local = holidays.country_holidays("ID", years=year, categories=(category,), language="id")
        english = holidays.country_holidays(
            "ID", years=year, categories=(category,), language="en_US"
        )
        for day in sorted(local):
            pairs = zip(local.get_list(day), english.get_list(day), strict=True)
            found.setdefault(day, []).extend(Holiday(n, e, category) for n, e in pairs)
    for day, correction in DECREE_CORRECTIONS.items():
        if day.year == year:
            found.pop(day, None)
            if correction is not None:
                found[day] = [correction]
    return MappingProxyType({day: tuple(found[day]) for day in sorted(found)})


class Scope(IntEnum):
    """Where an adjustment applies; a more specific scope overrides a broader one."""

    NATIONAL = 0
    PROVINCE = 1
    REGENCY = 2
    INSTANSI = 3


@dataclass(frozen=True)
class Adjustment:
    """An admin's decision that one day is a `holiday` or a `working_day`."""

    day: date
    kind: str
    reason: str
    scope: Scope = Scope.NATIONAL


@dataclass(frozen=True)
class SkippedDay:
    day: date
    reason: str  # Indonesian (user-facing)
    reason_en: str


@dataclass(frozen=True)
class Due:
    """A computed deadline and how it came about."""

    due_at: datetime  # UTC
    local_due: datetime  # the same moment in the instansi's time zone
    start_day: date  # the local working day counting starts from
    skipped: list[SkippedDay] = field(default_factory=list)  # non-working days passed over


class WorkingCalendar:
    """Working days and office hours of one instansi in its IANA time zone."""

    def __init__(
        self,
        tz: str,
        adjustments: Iterable[Adjustment] = (),
        opens: time = DEFAULT_OPENS,
        closes: time = DEFAULT_CLOSES,
    ) -> None:
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self.tz = tz
        if opens.tzinfo is not None or closes.tzinfo is not None or not opens < closes:
            raise ValueError("office hours need local times with opens < closes")
        self.opens, self.closes = opens, closes
        self._adjustments: dict[date, Adjustment] = {}
        for adjustment in adjustments:
            if adjustment.kind not in ADJUSTMENT_KINDS:
                raise ValueError(f"unknown adjustment kind {adjustment.kind!r}")
            current = self._adjustments.get(adjustment.day)
            if current is None or adjustment.scope >= current.scope:
                self._adjustments[adjustment.day] = adjustment

    # -- days -------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        return self._why(day) is None

    def why_not_working(self, day: date, *, english: bool = False) -> str | None:
        """Why `day` is not a working day ("Minggu", "Hari Suci Nyepi (libur nasional)", ...)."""
        reasons = self._why(day)
        return None if reasons is None else reasons[1 if english else 0]

    def _why(self, day: date) -> tuple[str, str] | None:
        if isinstance(day, datetime):
            raise TypeError("pass a local date, not a datetime")
        adjustment = self._adjustments.get(day)
        if adjustment is not None:
            if adjustment.kind == "working_day":
                return None
            return f"ditetapkan admin: {adjustment.reason}", f"set by admin: {adjustment.reason}"
        local: list[str] = []
        english: list[str] = []
        if day.weekday() >= 5:
            local.append(WEEKDAYS_ID[day.weekday()])
            english.append(WEEKDAYS_EN[day.weekday()])
        for holiday in holidays_of_year(day.year).get(day, ()):
            label, label_en = CATEGORY_LABELS[holiday.category]
            local.append(f"{holiday.name} ({label})")
            english.append(f"{holiday.name_en} ({label_en})")
        return ("; ".join(local), "; ".join(english)) if local else None

    def _next_working(self, day: date, skipped: list[SkippedDay]) -> date:
        """`day` when it is a working day, else the next one; records the days passed over."""
        for _ in range(MAX_SCAN_DAYS):
            reasons = self._why(day)
            if reasons is None:
                return day
            skipped.append(SkippedDay(day, *reasons))
            day += ONE_DAY
        raise ValueError(f"no working day in the {MAX_SCAN_DAYS} days before {day}")

    # -- deadlines --------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """`moment` in the instansi's time zone; a naive datetime is refused."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("datetimes must be timezone-aware")
        return moment.astimezone(self.zone)

    def _due(self, local_due: datetime, start_day: date, skipped: list[SkippedDay]) -> Due:
        return Due(local_due.astimezone(UTC), local_due, start_day, skipped)

    def add_working_days(self, start: datetime, n: int) -> Due:
        """The end (23:59:59 local) of the Nth working day after the start day."""
        if n < 0:
            raise ValueError("working days must not be negative")
        skipped: list[SkippedDay] = []
        start_day = day = self._next_working(self.local(start).date(), skipped)
        for _ in range(n):
            day = self._next_working(day + ONE_DAY, skipped)
        return self._due(datetime.combine(day, END_OF_DAY, tzinfo=self.zone), start_day, skipped)

    def add_office_hours(self, start: datetime, hours: float) -> Due:
        """The moment the Nth office hour (of working days) after `start` ends."""
        if hours < 0:
            raise ValueError("office hours must not be negative")
        skipped: list[SkippedDay] = []
        cursor = self.local(start)
        day = cursor.date()
        if not self.is_working_day(day) or cursor.time() >= self.closes:
            first = day + ONE_DAY if self.is_working_day(day) else day
            cursor = datetime.combine(
                self._next_working(first, skipped), self.opens, tzinfo=self.zone
            )
        elif cursor.time() < self.opens:
            cursor = datetime.combine(day, self.opens, tzinfo=self.zone)
        start_day = cursor.date()
        remaining = timedelta(hours=hours)
        while True:
            available = datetime.combine(cursor.date(), self.closes, tzinfo=self.zone) - cursor
            if remaining <= available:
                return self._due(cursor + remaining, start_day, skipped)
            remaining -= available
            day = self._next_working(cursor.date() + ONE_DAY, skipped)
            cursor = datetime.combine(day, self.opens, tzinfo=self.zone)

    def working_days_left(self, now: datetime, due: datetime) -> float:
        """Working time from `now` to `due` in working days: each working day's 24 local hours
        count 1, other days 0; negative when overdue; rounded to 4 decimals (~9 seconds), so a
        whole day ending at 23:59:59 counts as 1.0."""
        low, high = self.local(now), self.local(due)
        sign = 1.0
        if high < low:
            low, high, sign = high, low, -1.0
        total = timedelta()
        day = low.date()
        while day <= high.date():
            if self.is_working_day(day):
                begins = datetime.combine(day, time(0), tzinfo=self.zone)
                part = min(high, begins + ONE_DAY) - max(low, begins)
                total += max(part, timedelta())
            day += ONE_DAY
        return round(sign * (total / ONE_DAY), 4) + 0.0  # + 0.0 turns -0.0 into 0.0

    def outer_limit(self, start: datetime, days: int = OUTER_LIMIT_DAYS) -> Due:
        """`days` calendar days after `start`, at the same local time (nothing is skipped)."""
        local = self.local(start)
        return self._due(local + timedelta(days=days), local.date(), [])
