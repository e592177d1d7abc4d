"""Working-day calendars from the database: adjustments in force, office hours, and deadlines.

`calendar_for` builds an instansi's `WorkingCalendar` from the national adjustments, those of its
region chain (a regency `34.04` also gets its province `34`'s) and its own, plus its office hours.
`add_adjustment` and `remove_adjustment` only write rows, inside the caller's transaction (the
caller recomputes open deadlines and audits). `explain_due` is the public "when is this due, and
why" question, in its own transaction.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db import valid_id
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import Instansi, Region, User
from engine.services.progress import resolve_instansi
from engine.text import check_storable
from sla.calendar import (
    ADJUSTMENT_KINDS,
    DEFAULT_CLOSES,
    DEFAULT_OPENS,
    Adjustment,
    Due,
    Scope,
    WorkingCalendar,
)
from sla.models import CalendarAdjustment, OfficeHours

MAX_DURATION = 365  # working days or office hours a deadline may count
FIRST_YEAR, LAST_YEAR = 2000, 2099  # the years a start moment may fall in
MAX_REASON = 500


def region_chain(region_code: str | None) -> list[str]:
    """`34.04` -> [`34`, `34.04`]: the regions whose adjustments apply to that region."""
    if not region_code:
        return []
    parts = region_code.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def scope_of(row: CalendarAdjustment) -> Scope:
    if row.instansi_id is not None:
        return Scope.INSTANSI
    if row.region_code is not None:
        return Scope.REGENCY if "." in row.region_code else Scope.PROVINCE
    return Scope.NATIONAL


def parse_hhmm(value: str) -> time:
    """Office hours are stored as local `HH:MM`."""
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes))


def calendar_for(session: Session, instansi: Instansi) -> WorkingCalendar:
    """The instansi's calendar: in-force adjustments of its scopes and its office hours."""
    A = CalendarAdjustment
    scopes = [and_(A.region_code.is_(None), A.instansi_id.is_(None)), A.instansi_id == instansi.id]
    chain = region_chain(instansi.region_code)
    if chain:
        scopes.append(and_(A.region_code.in_(chain), A.instansi_id.is_(None)))
    rows = session.scalars(select(A).where(A.removed_at.is_(None), or_(*scopes)).order_by(A.id))
    adjustments = [Adjustment(r.day, r.kind, r.reason, scope_of(r)) for r in rows]
    hours = session.get(OfficeHours, instansi.id)
    opens, closes = DEFAULT_OPENS, DEFAULT_CLOSES
    if hours is not None:
        opens, closes = parse_hhmm(hours.opens), parse_hhmm(hours.closes)
    return WorkingCalendar(instansi.timezone, adjustments, opens=opens, closes=closes)


def _actor_user_id(session: Session, actor: str) -> int | None:
    """The user behind an audit actor `user:<id>` (engine.services.audit.user_actor), if any."""
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidInput("an actor is required", field="actor")
    prefix, _, rest = actor.partition(":")
    if prefix != "user" or not rest.isdigit():
        return None  # a system actor (scheduler, CLI)
    if not valid_id(int(rest)) or session.get(User, int(rest)) is None:
        raise InvalidInput(f"unknown user in actor '{actor}'", field="actor")
    return int(rest)


def add_adjustment(
    session: Session,
    *,
    day: date,
    kind: str,
    reason: str,
    region_code: str | None = None,
    instansi_code: str | None = None,
    actor: str,
) -> CalendarAdjustment:
    """Make `day` a holiday or a working day, nationally, for a region or for one instansi.

    Writes the row only (flushed, so it has an id), in the caller's transaction.
    """
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidInput("day must be a date", field="day")
    if kind not in ADJUSTMENT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(ADJUSTMENT_KINDS)}", field="kind")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason of 1 to {MAX_REASON} characters is needed", field="reason")
    check_storable(reason, "reason")
    if region_code is not None and instansi_code is not None:
        raise InvalidInput("give a region or an instansi, not both", field="region_code")
    instansi_id = None
    if instansi_code is not None:
        instansi_id = resolve_instansi(session, instansi_code, "instansi").id
    if region_code is not None and (
        not isinstance(region_code, str) or session.get(Region, region_code) is None
    ):
        raise InvalidInput(f"unknown region '{region_code}'", field="region_code")
    created_by_id = _actor_user_id(session, actor)
    A = CalendarAdjustment
    same_scope = session.scalar(
        select(A.id).where(
            A.day == day,
            A.removed_at.is_(None),
            A.region_code.is_(None) if region_code is None else A.region_code == region_code,
            A.instansi_id.is_(None) if instansi_id is None else A.instansi_id == instansi_id,
        )
    )
    if same_scope is not None:
        raise Conflict(
            f"adjustment {same_scope} already sets {day.isoformat()} here; remove it first",
            field="day",
        )
    row = A(
        day=day,
        kind=kind,
        region_code=region_code,
        instansi_id=instansi_id,
        reason=reason,
        created_by_id=created_by_id,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def remove_adjustment(session: Session, *, adjustment_id: int, actor: str) -> CalendarAdjustment:
    """Take an adjustment out of force (the row stays, with `removed_at`), in the caller's
    transaction."""
    _actor_user_id(session, actor)
    row = None
    if valid_id(adjustment_id):
        row = session.scalar(
            select(CalendarAdjustment)
            .where(CalendarAdjustment.id == adjustment_id)
            .with_for_update()
        )
    if row is None:
        raise NotFound("no such calendar adjustment", field="adjustment_id")
    if row.removed_at is not None:
        raise Conflict("this adjustment was already removed", field="adjustment_id")
    row.removed_at = clock.now()
    session.flush()
    return row


def _checked_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number", field=name)
    if not 0 <= value <= MAX_DURATION:
        raise InvalidInput(f"{name} must be between 0 and {MAX_DURATION}", field=name)
    return value


def explain_due(
    session: Session,
    *,
    start: datetime,
    working_days: int | None,
    working_hours: int | None,
    instansi_code: str,
) -> tuple[Instansi, Due]:
    """When a deadline of `working_days` (or office `working_hours`) from `start` ends for the
    instansi, with the non-working days it skips. Errors name the API fields: `from`,
    `working_days`, `working_hours`, `instansi`."""
    if (working_days is None) == (working_hours is None):
        raise InvalidInput(
            "give exactly one of working_days and working_hours", field="working_days"
        )
    in_days = working_days is not None
    name = "working_days" if in_days else "working_hours"
    count = _checked_count(name, working_days if in_days else working_hours)
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput("from needs a UTC offset, e.g. 2026-03-13T10:00+07:00", field="from")
    if not FIRST_YEAR <= start.year <= LAST_YEAR:
        raise InvalidInput(f"from must fall in {FIRST_YEAR}-{LAST_YEAR}", field="from")
    with session.begin():
        instansi = resolve_instansi(session, instansi_code, "instansi")
        calendar = calendar_for(session, instansi)
        session.expunge(instansi)
    if in_days:
        return instansi, calendar.add_working_days(start, count)
    return instansi, calendar.add_office_hours(start, count)
