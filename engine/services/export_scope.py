"""Which reports a principal may export, and what of each report: the rules of the pages they
already read, applied in SQL so that a withheld value never leaves the database.

Rows (`Scope`), by the report's current instansi and unit:
- national admins (`admin_nasional`): every report;
- handling staff: reports their instansi handles (`admin_instansi`, and the unit roles
  `admin_unit`/`pejabat_penghubung` held instansi-wide, as an API key holds them), or that
  their unit handles (a unit role held for one unit), as their task lists show them;
- supervisors (`supervisor`, and `admin_instansi` for the instansi below theirs): reports of
  every instansi of their tree (their instansi and all below it, `instansi.supervisor_id`).

Values (`report_columns`), as the officer's task page and the supervisor's report page show:
- an anonim pelapor's name, email and phone: never, to anyone (not even national admins);
- otherwise the pelapor's name, email and phone: to national admins and the handling staff
  (the task page, `officer_notes.case_file`); the name alone to supervisors of the tree (the
  supervisor's report view, `sla.supervised.report_view`);
- a rahasia report's title, body and pelapor: to national admins and the handling staff only;
  supervisors get its row (tracking id, status, dates, instansi) with these left empty.

The export's columns (English keys, the header row of every file) are `COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, false, func, null, or_, select, true
from sqlalchemy.orm import Session

from engine import status
from engine.db import UTCDateTime
from engine.errors import Forbidden, InvalidInput
from engine.models import HumanTask, Instansi, Region, Report, Unit
from engine.services.auth import Principal

NATIONAL = "admin_nasional"
HANDLING_ROLES = frozenset({"admin_instansi", "admin_unit", "pejabat_penghubung"})
SUPERVISING_ROLES = frozenset({"admin_instansi", "supervisor"})

# The columns of an export, in file order (docs: README "Exports").
COLUMNS = (
    "tracking_id",  # the report's tracking number
    "filed_at",  # when it was filed (in the export's time zone, ISO 8601 with offset in CSV)
    "classification",  # pengaduan | aspirasi | permintaan_informasi
    "category",
    "status",  # engine.status (pending_verification ... closed)
    "region_code",  # Kemendagri code of the place it is about
    "region_name",
    "instansi_code",  # the instansi handling it now (empty: the national admins)
    "instansi_name",
    "unit_code",  # the unit handling it now, if disposed
    "unit_name",
    "anonim",  # true: the pelapor's identity is never exported
    "rahasia",  # true: title, body and pelapor only for national admins and the handlers
    "title",
    "body",
    "pelapor_name",  # empty when anonim, when not given, or withheld (module docstring)
    "pelapor_email",
    "pelapor_phone",
    "open_task_due_at",  # the SLA due moment of its open task, if any
    "overdue",  # that due moment had passed when the export started
    "closed_at",
    "updated_at",
)


@dataclass(frozen=True)
class Scope:
    """What a principal may export: everything (`national`), or the reports of the instansi and
    units they handle and of the instansi of their supervised trees (ids)."""

    national: bool
    handled: frozenset[int]
    units: frozenset[int]
    tree: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.national or self.handled or self.units or self.tree)

    def reaches(self, instansi_id: int, unit_instansi: Iterable[int]) -> bool:
        """Whether any report of this instansi may be in the export."""
        return (
            self.national
            or instansi_id in self.handled
            or instansi_id in self.tree
            or instansi_id in set(unit_instansi)
        )


def subtree(session: Session, roots: Iterable[int]) -> set[int]:
    """The ids of `roots` and of every instansi below them (one recursive query)."""
    roots = set(roots)
    if not roots:
        return set()
    top = select(Instansi.id.label("id")).where(Instansi.id.in_(roots)).cte("tree", recursive=True)
    tree = top.union(select(Instansi.id).where(Instansi.supervisor_id == top.c.id))
    return set(session.scalars(select(tree.c.id)))


def scope_of(session: Session, principal: Principal) -> Scope:
    """The principal's export scope (module docstring); empty for roles that read no reports."""
    if NATIONAL in principal.roles():
        return Scope(True, frozenset(), frozenset(), frozenset())
    handled, units, roots = set(), set(), set()
    for m in principal.memberships:
        if m.instansi_id is None:
            continue
        if m.role in HANDLING_ROLES:
            if m.unit_id is None:
                handled.add(m.instansi_id)
            else:
                units.add(m.unit_id)
        if m.role in SUPERVISING_ROLES and m.unit_id is None:
            roots.add(m.instansi_id)
    return Scope(False, frozenset(handled), frozenset(units), frozenset(subtree(session, roots)))


def describe(session: Session, scope: Scope) -> dict[str, Any]:
    """The scope in codes, as the job records it."""
    if scope.national:
        return {"national": True, "instansi": [], "units": [], "supervises": []}

    def codes(model: Any, ids: frozenset[int]) -> list[str]:
        if not ids:
            return []
        return sorted(session.scalars(select(model.code).where(model.id.in_(ids))))

    return {
        "national": False,
        "instansi": codes(Instansi, scope.handled),
        "units": codes(Unit, scope.units),
        "supervises": codes(Instansi, scope.tree),
    }


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Checked filters: instansi ids (None: all in scope), the filing period [since, until) in
    UTC, the statuses (empty: all) and the time zone of the dates and of the file's times."""

    instansi_ids: frozenset[int] | None
    since: datetime | None
    until: datetime | None
    statuses: tuple[str, ...]
    time_zone: str


def _day(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise InvalidInput("a date (YYYY-MM-DD) is expected", field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput("a date (YYYY-MM-DD) is expected", field=field) from exc


def normalise(raw: Mapping[str, Any], *, time_zone: str) -> dict[str, Any]:
    """The filters as stored on the job (plain JSON), checked for shape: `instansi` (a code),
    `subtree` (also the instansi below it), `from`/`to` (filing dates, both included, in
    `time_zone`), `status` (a list of statuses)."""
    unknown = sorted(set(raw) - {"instansi", "subtree", "from", "to", "status"})
    if unknown:
        raise InvalidInput(f"unknown filter '{unknown[0]}'", field=unknown[0])
    code = raw.get("instansi")
    if code is not None and (not isinstance(code, str) or not 1 <= len(code) <= 32):
        raise InvalidInput("an instansi code is expected", field="instansi")
    first, last = _day(raw.get("from"), "from"), _day(raw.get("to"), "to")
    if first and last and last < first:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    statuses = raw.get("status") or []
    if isinstance(statuses, str):
        statuses = [s for s in statuses.split(",") if s]
    if not isinstance(statuses, list | tuple):
        raise InvalidInput("a list of statuses is expected", field="status")
    for value in statuses:
        if value not in status.STATUSES:
            raise InvalidInput(f"status is one of {', '.join(status.STATUSES)}", field="status")
    return {
        "instansi": code or None,
        "subtree": bool(raw.get("subtree", False)),
        "from": first.isoformat() if first else None,
        "to": last.isoformat() if last else None,
        "status": sorted(set(statuses)),
        "time_zone": time_zone,
    }


def resolve(session: Session, scope: Scope, stored: Mapping[str, Any]) -> Filters:
    """The stored filters against the database and the scope: an unknown instansi is
    InvalidInput, one outside the scope Forbidden (both naming `instansi`)."""
    zone = ZoneInfo(stored["time_zone"])
    instansi_ids: frozenset[int] | None = None
    if stored.get("instansi"):
        found = session.scalar(select(Instansi).where(Instansi.code == stored["instansi"]))
        if found is None:
            raise InvalidInput(f"unknown instansi '{stored['instansi']}'", field="instansi")
        unit_instansi = (
            session.scalars(select(Unit.instansi_id).where(Unit.id.in_(scope.units))).all()
            if scope.units
            else []
        )
        if not scope.reaches(found.id, unit_instansi):
            raise Forbidden(
                f"the reports of '{found.code}' are not yours to export", field="instansi"
            )
        ids = subtree(session, {found.id}) if stored.get("subtree") else {found.id}
        instansi_ids = frozenset(ids)

    def start_of(day: str | None, shift: int = 0) -> datetime | None:
        if day is None:
            return None
        moment = datetime.combine(date.fromisoformat(day) + timedelta(days=shift), time(), zone)
        return moment.astimezone(ZoneInfo("UTC"))

    return Filters(
        instansi_ids=instansi_ids,
        since=start_of(stored.get("from")),
        until=start_of(stored.get("to"), shift=1),
        statuses=tuple(stored.get("status") or ()),
        time_zone=stored["time_zone"],
    )


# --- the query -------------------------------------------------------------------------------


def _handled(scope: Scope) -> ColumnElement[bool]:
    if scope.national:
        return true()
    parts = []
    if scope.handled:
        parts.append(Report.current_instansi_id.in_(scope.handled))
    if scope.units:
        parts.append(Report.current_unit_id.in_(scope.units))
    return or_(*parts) if parts else false()


def conditions(scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE conditions: in scope, and the filters."""
    found: list[ColumnElement[bool]] = []
    if not scope.national:
        parts = [_handled(scope)]
        if scope.tree:
            parts.append(Report.current_instansi_id.in_(scope.tree))
        found.append(or_(*parts))
    if filters.instansi_ids is not None:
        found.append(Report.current_instansi_id.in_(filters.instansi_ids))
    if filters.since is not None:
        found.append(Report.created_at >= filters.since)
    if filters.until is not None:
        found.append(Report.created_at < filters.until)
    if filters.statuses:
        found.append(Report.status.in_(filters.statuses))
    return found


def _shown(condition: ColumnElement[bool] | None, column: Any, name: str) -> Any:
    """`column` where `condition` holds, else NULL: decided (and decrypted) in the database
    query, so a withheld value is never fetched."""
    if condition is None:
        return column.label(name)
    return case((condition, column), else_=null()).label(name)


def report_columns(scope: Scope) -> list[Any]:
    """The selected columns with the redaction of the module docstring."""
    full = None if scope.national else _handled(scope)
    detail = None if full is None else or_(full, Report.rahasia.is_(False))
    named = and_(Report.anonim.is_(False), detail if detail is not None else true())
    contact = and_(Report.anonim.is_(False), full if full is not None else true())
    return [
        Report.id,
        Report.tracking_id,
        Report.created_at,
        Report.classification,
        Report.category,
        Report.status,
        Report.region_code,
        Region.name.label("region_name"),
        Instansi.code.label("instansi_code"),
        Instansi.name.label("instansi_name"),
        Unit.code.label("unit_code"),
        Unit.name.label("unit_name"),
        Report.anonim,
        Report.rahasia,
        _shown(detail, Report.title, "title"),
        _shown(detail, Report.body, "body"),
        _shown(named, Report.pelapor_name, "pelapor_name"),
        _shown(contact, Report.pelapor_email, "pelapor_email"),
        _shown(contact, Report.pelapor_phone, "pelapor_phone"),
        Report.closed_at,
        Report.updated_at,
    ]


def page(scope: Scope, filters: Filters, *, after: int, upto: int, limit: int) -> Select[Any]:
    """One keyset page: the next `limit` reports with ids in (after, upto], by id.

    The page's ids are chosen first (an ordered walk of the primary key that stops after
    `limit`), then joined to their names: joined first, PostgreSQL may read every remaining
    report for each page and sort them, which makes a large export quadratic."""
    ids = (
        select(Report.id)
        .where(Report.id > after, Report.id <= upto, *conditions(scope, filters))
        .order_by(Report.id)
        .limit(limit)
        .subquery("page")
    )
    return (
        select(*report_columns(scope))
        .join(ids, ids.c.id == Report.id)
        .outerjoin(Region, Region.code == Report.region_code)
        .outerjoin(Instansi, Instansi.id == Report.current_instansi_id)
        .outerjoin(Unit, Unit.id == Report.current_unit_id)
        .order_by(Report.id)
    )


def count(scope: Scope, filters: Filters, *, upto: int) -> Select[Any]:
    return select(func.count(Report.id)).where(Report.id <= upto, *conditions(scope, filters))


def open_task_due(session: Session, report_ids: Sequence[int]) -> dict[int, datetime]:
    """The earliest due moment of each report's open tasks (reports without one are left out)."""
    if not report_ids:
        return {}
    rows = session.execute(
        select(HumanTask.report_id, func.min(HumanTask.due_at, type_=UTCDateTime))
        .where(
            HumanTask.report_id.in_(report_ids),
            HumanTask.status == "open",
            HumanTask.due_at.is_not(None),
        )
        .group_by(HumanTask.report_id)
    )
    return {report_id: due for report_id, due in rows if due is not None}
