"""Admin changes to the working-day calendar: days made holidays or working days, nationally,
for a region (and the regencies inside it) or for one instansi; open deadlines follow at once.

Each change is one transaction: the adjustment row (`sla.calendar_service`), the recomputed due
moments of the open tasks it reaches (`sla.deadlines.replan_open_tasks`) and an audit event
naming the day, kind, scope, reason and how many due moments moved. National and regional days
are for national admins; an instansi's own days also for its `admin_instansi`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.db import valid_id
from engine.errors import InvalidInput, NotFound
from engine.models import Instansi, Region
from engine.services import audit
from engine.services.auth import Principal
from engine.text import check_storable
from sla import admin, calendar_service
from sla.calendar_service import FIRST_YEAR, LAST_YEAR, region_chain
from sla.models import CalendarAdjustment

NATIONAL_SCOPE, REGION_SCOPE, INSTANSI_SCOPE = "national", "region", "instansi"
MAX_REGION_CODE = 16


@dataclass(frozen=True)
class AdjustmentView:
    """An adjustment as admins see it, its scope spelled out."""

    id: int
    day: date
    kind: str
    reason: str
    scope: str  # national | region | instansi
    region_code: str | None
    instansi_code: str | None
    created_at: datetime
    removed_at: datetime | None


def _view(session: Session, row: CalendarAdjustment) -> AdjustmentView:
    scope = NATIONAL_SCOPE
    if row.instansi_id is not None:
        scope = INSTANSI_SCOPE
    elif row.region_code is not None:
        scope = REGION_SCOPE
    return AdjustmentView(
        id=row.id,
        day=row.day,
        kind=row.kind,
        reason=row.reason,
        scope=scope,
        region_code=row.region_code,
        instansi_code=admin.code_of(session, row.instansi_id),
        created_at=row.created_at,
        removed_at=row.removed_at,
    )


def _region(session: Session, code: object) -> str:
    if not isinstance(code, str) or not code or len(code) > MAX_REGION_CODE:
        raise NotFound(f"unknown region '{code}'", field="region_code")
    check_storable(code, "region_code")
    if session.get(Region, code) is None:
        raise NotFound(f"unknown region '{code}'", field="region_code")
    return code


def list_adjustments(
    session: Session,
    *,
    principal: Principal,
    year: int,
    region_code: str | None = None,
    instansi_code: str | None = None,
) -> list[AdjustmentView]:
    """The adjustments in force in `year`, by day. With `instansi_code` or `region_code`, those
    that apply there (national, the region chain, the instansi's own); else every one."""
    admin.require_role(principal, admin.ADMINS, "see calendar adjustments")
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"year must be between {FIRST_YEAR} and {LAST_YEAR}", field="year")
    if region_code is not None and instansi_code is not None:
        raise InvalidInput("give a region or an instansi, not both", field="region_code")
    A = CalendarAdjustment
    with session.begin():
        stmt = select(A).where(
            A.removed_at.is_(None), A.day >= date(year, 1, 1), A.day <= date(year, 12, 31)
        )
        chain: list[str] = []
        own: int | None = None
        if instansi_code is not None:
            instansi = admin.find_instansi(session, instansi_code, "instansi_code")
            chain, own = region_chain(instansi.region_code), instansi.id
        elif region_code is not None:
            chain = region_chain(_region(session, region_code))
        if instansi_code is not None or region_code is not None:
            scopes = [and_(A.region_code.is_(None), A.instansi_id.is_(None))]
            if chain:
                scopes.append(and_(A.region_code.in_(chain), A.instansi_id.is_(None)))
            if own is not None:
                scopes.append(A.instansi_id == own)
            stmt = stmt.where(or_(*scopes))
        rows = session.scalars(stmt.order_by(A.day, A.id)).all()
        return [_view(session, row) for row in rows]


def _affected(session: Session, row: CalendarAdjustment) -> set[int] | None:
    """The instansi whose calendar the adjustment changes (None: every one)."""
    if row.instansi_id is not None:
        return {row.instansi_id}
    if row.region_code is not None:
        return admin.region_instansi_ids(session, row.region_code)
    return None


def _record(
    session: Session, principal: Principal, action: str, view: AdjustmentView, moved: int
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=action,
        data={
            "adjustment_id": view.id,
            "day": view.day.isoformat(),
            "kind": view.kind,
            "scope": view.scope,
            "region_code": view.region_code,
            "instansi_code": view.instansi_code,
            "moved": moved,
        },
    )


def add_day(
    session: Session,
    *,
    principal: Principal,
    day: date,
    kind: str,
    reason: str,
    region_code: str | None = None,
    instansi_code: str | None = None,
) -> tuple[AdjustmentView, int]:
    """Make `day` a holiday or a working day; returns the adjustment and how many open due
    moments moved."""
    admin.require_role(principal, admin.ADMINS, "change the calendar")
    if region_code is not None and instansi_code is not None:
        raise InvalidInput("give a region or an instansi, not both", field="region_code")
    if isinstance(day, date) and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(f"day must fall in {FIRST_YEAR}-{LAST_YEAR}", field="day")
    with session.begin():
        instansi: Instansi | None = None
        if instansi_code is not None:
            instansi = admin.find_instansi(session, instansi_code, "instansi_code")
        admin.require_admin_of(principal, instansi, "change the calendar")
        if region_code is not None:
            _region(session, region_code)
        row = calendar_service.add_adjustment(
            session,
            day=day,
            kind=kind,
            reason=reason,
            region_code=region_code,
            instansi_code=instansi_code,
            actor=principal.actor,
        )
        moved = admin.replan(session, _affected(session, row))
        view = _view(session, row)
        _record(session, principal, "calendar.day_added", view, moved)
    return view, moved


def remove_day(
    session: Session, *, principal: Principal, adjustment_id: int
) -> tuple[AdjustmentView, int]:
    """Take an adjustment out of force; returns it and how many open due moments moved."""
    admin.require_role(principal, admin.ADMINS, "change the calendar")
    with session.begin():
        row = None
        if valid_id(adjustment_id):
            row = session.scalar(
                select(CalendarAdjustment)
                .where(CalendarAdjustment.id == adjustment_id)
                .with_for_update()
            )
        if row is None:
            raise NotFound("no such calendar adjustment", field="adjustment_id")
        instansi = session.get(Instansi, row.instansi_id) if row.instansi_id else None
        admin.require_admin_of(principal, instansi, "change the calendar")
        calendar_service.remove_adjustment(
            session, adjustment_id=adjustment_id, actor=principal.actor
        )
        moved = admin.replan(session, _affected(session, row))
        view = _view(session, row)
        _record(session, principal, "calendar.day_removed", view, moved)
    return view, moved
