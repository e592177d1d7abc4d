"""`lapor calendar add|remove|import|list`: days off (or extra working days) from the command line.

Each change is one transaction, as on the admin pages (sla.admin_calendar): the adjustment rows
(sla.calendar_service), the open due moments they move (sla.admin.replan) and audit events,
here with the actor `cli`. A day applies nationally, to a region (`--region 34`: the province
and its regencies) or to one instansi (`--instansi 34.04`).

`import FILE` reads a CSV (a header naming `day` (or `date`) and `reason`, optionally `kind`) or
an iCalendar file (each VEVENT: its all-day DTSTART up to DTEND, SUMMARY as the reason). Days
already set in the same scope are skipped, so importing a file again changes nothing; a bad line
stops the import before anything is written; `--dry-run` reports what would happen.
Bad input exits with status 2 naming the option or the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, DomainError
from engine.services import audit
from sla import admin, calendar_service
from sla.calendar import ADJUSTMENT_KINDS
from sla.models import CalendarAdjustment

CLI_ACTOR = "cli"
MAX_EVENT_DAYS = 31  # an iCalendar event longer than this is refused (a mistake, not leave)
OPTIONS = {
    "region_code": "--region",
    "instansi": "--instansi",
    "instansi_code": "--instansi",
    "adjustment_id": "ID_OR_DAY",
    "reason": "--reason",
}


@dataclass(frozen=True)
class DayOff:
    """One day to set, and where in the file it came from (for messages)."""

    day: date
    reason: str
    kind: str
    source: str


@dataclass(frozen=True)
class Scope:
    region_code: str | None = None
    instansi_code: str | None = None

    @property
    def name(self) -> str:
        if self.instansi_code:
            return f"instansi {self.instansi_code}"
        return f"region {self.region_code}" if self.region_code else "national"


# -- reading files -----------------------------------------------------------------------------


def _bad_file(where: str, why: str) -> click.BadParameter:
    return click.BadParameter(f"{where}: {why}", param_hint="'FILE'")


def read_csv(text: str, *, default_kind: str) -> list[DayOff]:
    """Days from a CSV with a header: `day` (or `date`, YYYY-MM-DD), `reason`, optional `kind`."""
    reader = csv.DictReader(io.StringIO(text))
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or ()}
    day_column = columns.get("day") or columns.get("date")
    reason_column = columns.get("reason")
    if day_column is None or reason_column is None:
        raise _bad_file("line 1", "the header must name the columns day (or date) and reason")
    kind_column = columns.get("kind")
    found = []
    for row in reader:
        where = f"line {reader.line_num}"
        raw = (row.get(day_column) or "").strip()
        if not raw and not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise _bad_file(where, f"'{raw}' is not a day (YYYY-MM-DD)") from None
        kind = ((row.get(kind_column) if kind_column else None) or default_kind).strip()
        if kind not in ADJUSTMENT_KINDS:
            raise _bad_file(where, f"kind must be one of {', '.join(ADJUSTMENT_KINDS)}")
        found.append(DayOff(day, (row.get(reason_column) or "").strip(), kind, where))
    return found


def _as_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def read_ics(data: bytes, *, default_kind: str) -> list[DayOff]:
    """Days from an iCalendar file: every day each VEVENT covers (DTEND excluded, as RFC 5545
    has it for all-day events), named by its SUMMARY."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(data)
    except ValueError as exc:
        raise _bad_file("the file", f"not an iCalendar file ({exc})") from None
    found = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        summary = str(event.get("SUMMARY", "")).strip()
        where = f"event {number}" + (f" ({summary})" if summary else "")
        if "RRULE" in event:
            raise _bad_file(where, "repeating events are not read: list each year's days")
        if "DTSTART" not in event:
            raise _bad_file(where, "has no DTSTART")
        start = event.decoded("DTSTART")
        first = _as_day(start)
        if "DTEND" in event:
            end = event.decoded("DTEND")
            timed = isinstance(end, datetime)  # a timed event ends on the day of its end
            last = _as_day(end) if timed else _as_day(end) - timedelta(days=1)
        elif "DURATION" in event:
            last = _as_day(start + event.decoded("DURATION") - timedelta(microseconds=1))
        else:
            last = first
        last = max(first, last)
        if (last - first).days >= MAX_EVENT_DAYS:
            raise _bad_file(where, f"covers more than {MAX_EVENT_DAYS} days")
        for offset in range((last - first).days + 1):
            found.append(DayOff(first + timedelta(days=offset), summary, default_kind, where))
    return found


def read_days(path: Path, *, default_kind: str) -> list[DayOff]:
    """The days in a CSV or iCalendar file (told apart by content, then by name)."""
    data = path.read_bytes()
    if data.lstrip().upper().startswith(b"BEGIN:VCALENDAR") or path.suffix.lower() in (
        ".ics",
        ".ical",
    ):
        return read_ics(data, default_kind=default_kind)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad_file("the file", "is neither UTF-8 CSV nor iCalendar") from None
    return read_csv(text, default_kind=default_kind)


# -- changing the calendar ---------------------------------------------------------------------


def _affected(session: Session, scope: Scope) -> set[int] | None:
    """The instansi whose calendar a day in `scope` changes (None: every one)."""
    if scope.instansi_code:
        return {admin.find_instansi(session, scope.instansi_code, "instansi").id}
    if scope.region_code:
        return admin.region_instansi_ids(session, scope.region_code)
    return None


def _scope_of(session: Session, row: CalendarAdjustment) -> Scope:
    return Scope(row.region_code, admin.code_of(session, row.instansi_id))


def _audit(session: Session, action: str, row: CalendarAdjustment, **extra: Any) -> None:
    scope = _scope_of(session, row)
    audit.record(
        session,
        actor=CLI_ACTOR,
        action=action,
        data={
            "adjustment_id": row.id,
            "day": row.day.isoformat(),
            "kind": row.kind,
            "scope": "instansi"
            if scope.instansi_code
            else "region"
            if scope.region_code
            else "national",
            "region_code": scope.region_code,
            "instansi_code": scope.instansi_code,
            **extra,
        },
    )


def _add(session: Session, day: DayOff, scope: Scope) -> CalendarAdjustment:
    return calendar_service.add_adjustment(
        session,
        day=day.day,
        kind=day.kind,
        reason=day.reason,
        region_code=scope.region_code,
        instansi_code=scope.instansi_code,
        actor=CLI_ACTOR,
    )


@dataclass(frozen=True)
class Imported:
    added: list[CalendarAdjustment]
    skipped: list[DayOff]
    moved: int


def import_days(session: Session, days: list[DayOff], scope: Scope) -> Imported:
    """Add each day not yet set in `scope`, then recompute the open deadlines once; in the
    caller's transaction. A day given twice in the file counts once."""
    added, skipped, seen = [], [], set()
    for day in days:
        if day.day in seen:
            continue
        seen.add(day.day)
        try:
            row = _add(session, day, scope)
        except Conflict:  # already set here: importing again changes nothing
            skipped.append(day)
            continue
        except DomainError as exc:
            raise click.BadParameter(
                f"{day.source}: {exc.message}", param_hint=_hint(exc.field)
            ) from None
        _audit(session, "calendar.day_added", row, imported=True)
        added.append(row)
    moved = admin.replan(session, _affected(session, scope)) if added else 0
    return Imported(added, skipped, moved)


def _hint(field: str | None) -> str:
    return f"'{OPTIONS.get(field or '', 'FILE')}'"


def _scope(region: str | None, instansi: str | None) -> Scope:
    if region and instansi:
        raise click.BadParameter("give a region or an instansi, not both", param_hint="'--region'")
    return Scope(region, instansi)


_region_option = click.option("--region", metavar="CODE", help="a province or regency, e.g. 34")
_instansi_option = click.option("--instansi", metavar="CODE", help="one instansi, e.g. 34.04")
_kind_option = click.option(
    "--kind",
    type=click.Choice(ADJUSTMENT_KINDS),
    default="holiday",
    show_default=True,
    help="a day off, or a working day (e.g. a Saturday worked in exchange)",
)


@click.group()
def calendar() -> None:
    """The working-day calendar: days off and extra working days."""


@calendar.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--reason", required=True, help="e.g. 'Cuti bersama Idul Fitri'")
@_kind_option
@_region_option
@_instansi_option
def add(day: datetime, reason: str, kind: str, region: str | None, instansi: str | None) -> None:
    """Make DAY (YYYY-MM-DD) a day off (or a working day) nationally, for a region or an
    instansi; open deadlines there are recomputed."""
    from api.cli import _sessions, _settings  # here, so api.cli may import this module freely

    scope = _scope(region, instansi)
    wanted = DayOff(day.date(), reason, kind, "DAY")
    with _sessions(_settings().DATABASE_URL) as factory, factory() as session:
        try:
            with session.begin():
                row = _add(session, wanted, scope)
                moved = admin.replan(session, _affected(session, scope))
                _audit(session, "calendar.day_added", row, moved=moved)
                row_id = row.id
        except DomainError as exc:
            raise click.BadParameter(exc.message, param_hint=_hint(exc.field)) from None
    click.echo(f"added #{row_id}: {wanted.day.isoformat()} {kind} ({scope.name}): {reason}")
    click.echo(f"{moved} open due moment(s) moved")


def _adjustment_id(session: Session, target: str, scope: Scope) -> int:
    """The id of the adjustment `target` names: its id, or its day in `scope`."""
    if target.isdigit():
        return int(target)
    try:
        day = date.fromisoformat(target)
    except ValueError:
        raise click.BadParameter(
            f"'{target}' is neither an adjustment id nor a day (YYYY-MM-DD)",
            param_hint="'TARGET'",
        ) from None
    A = CalendarAdjustment
    instansi_id = (
        admin.find_instansi(session, scope.instansi_code, "instansi").id
        if scope.instansi_code
        else None
    )
    found = session.scalar(
        select(A.id).where(
            A.day == day,
            A.removed_at.is_(None),
            A.region_code.is_(None)
            if scope.region_code is None
            else A.region_code == scope.region_code,
            A.instansi_id.is_(None) if instansi_id is None else A.instansi_id == instansi_id,
        )
    )
    if found is None:
        raise click.BadParameter(
            f"no adjustment sets {day.isoformat()} ({scope.name}); see `lapor calendar list`",
            param_hint="'TARGET'",
        )
    return found


@calendar.command("remove")
@click.argument("target", metavar="ID_OR_DAY")
@_region_option
@_instansi_option
def remove(target: str, region: str | None, instansi: str | None) -> None:
    """Take a calendar adjustment out of force: by its id (see `lapor calendar list`) or by
    its day (YYYY-MM-DD) nationally, in --region or for --instansi; open deadlines there are
    recomputed."""
    from api.cli import _sessions, _settings

    scope = _scope(region, instansi)
    with _sessions(_settings().DATABASE_URL) as factory, factory() as session:
        try:
            with session.begin():
                adjustment_id = _adjustment_id(session, target, scope)
                row = calendar_service.remove_adjustment(
                    session, adjustment_id=adjustment_id, actor=CLI_ACTOR
                )
                removed_scope = _scope_of(session, row)
                moved = admin.replan(session, _affected(session, removed_scope))
                _audit(session, "calendar.day_removed", row, moved=moved)
                day = row.day
        except DomainError as exc:
            raise click.BadParameter(exc.message, param_hint=_hint(exc.field)) from None
    click.echo(f"removed #{adjustment_id}: {day.isoformat()} ({removed_scope.name})")
    click.echo(f"{moved} open due moment(s) moved")


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_kind_option
@_region_option
@_instansi_option
@click.option("--dry-run", is_flag=True, help="check and count, write nothing")
def import_file(
    file: Path, kind: str, region: str | None, instansi: str | None, dry_run: bool
) -> None:
    """Add the days of FILE (CSV or iCalendar) nationally, for a region or an instansi; days
    already set there are skipped."""
    from api.cli import _sessions, _settings

    scope = _scope(region, instansi)
    days = read_days(file, default_kind=kind)
    with _sessions(_settings().DATABASE_URL) as factory, factory() as session:
        transaction = session.begin()
        try:
            done = import_days(session, days, scope)
            if done.added:
                audit.record(
                    session,
                    actor=CLI_ACTOR,
                    action="calendar.imported",
                    data={
                        "added": len(done.added),
                        "skipped": len(done.skipped),
                        "moved": done.moved,
                        "region_code": scope.region_code,
                        "instansi_code": scope.instansi_code,
                    },
                )
            added = [(row.id, row.day, row.kind, row.reason) for row in done.added]
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    verb = "would add" if dry_run else "added"
    for row_id, day, day_kind, reason in added:
        click.echo(
            f"{verb} {'' if dry_run else f'#{row_id} '}{day.isoformat()} {day_kind}: {reason}"
        )
    for skipped in done.skipped:
        click.echo(f"skipped {skipped.day.isoformat()} ({skipped.source}): already set here")
    click.echo(
        f"{file.name}: {verb} {len(added)} day(s), skipped {len(done.skipped)} ({scope.name}); "
        f"{done.moved} open due moment(s) {'would move' if dry_run else 'moved'}"
    )


@calendar.command("list")
@click.option("--year", type=click.IntRange(2000, 2099), required=True)
def list_days(year: int) -> None:
    """The adjustments in force in YEAR, every scope, with their ids."""
    from api.cli import _sessions, _settings

    A = CalendarAdjustment
    with _sessions(_settings().DATABASE_URL) as factory, factory() as session, session.begin():
        rows = session.scalars(
            select(A)
            .where(
                and_(
                    A.removed_at.is_(None),
                    A.day >= date(year, 1, 1),
                    A.day <= date(year, 12, 31),
                )
            )
            .order_by(A.day, A.id)
        ).all()
        lines = [
            f"#{r.id} {r.day.isoformat()} {r.kind} ({_scope_of(session, r).name}): {r.reason}"
            for r in rows
        ]
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} adjustment(s) in {year}")
