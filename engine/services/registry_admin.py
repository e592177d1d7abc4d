"""The instansi registry, changed by national admins: rename, merge and split an instansi.

Restructuring is a real, recurring event (ministries split, regencies merge). Each change is one
transaction with one audit event holding its before/after and counts:

- `rename`: only the name changes (codes are stable identifiers, kept everywhere).
- `merge`: the source becomes inactive (no longer offered in searches); its units, staff
  memberships, supervised instansi and open work move to the target.
- `split`: a new instansi (same kind, supervisor, region and time zone as the source) takes the
  listed units, their staff and the open reports currently at those units.

Open work moves without restarting anything: a report's running SOP instance keeps its state and
only changes hands (its instansi, and the instansi of its open tasks). Each moved task is
announced again as `TASK_OPENED` for its new instansi, so the SLA package re-plans its due and
reminder moments from the task's start with the new instansi's policy and calendar, as when it
opened. A claim is released when its holder has no role for the task at its new place. Each
moved report gets a (non-public) timeline entry. Unit codes never change, so forms and links
that name a unit keep working.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, events, status
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import HumanTask, Instansi, ProcessInstance, Report, RoleMembership, Unit
from engine.services import audit
from engine.services.auth import Principal
from engine.services.progress import add_timeline
from engine.text import check_storable

NATIONAL_ADMIN = "admin_nasional"
LIVE = ("running", "incident")  # instances not finished (as in engine.services.driver)
MIN_NAME, MAX_NAME, MAX_CODE, MAX_UNITS = 2, 200, 32, 200
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TIMELINE_KIND = "instansi_restructured"


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str


@dataclass(frozen=True)
class InstansiDetail:
    """An instansi as its administration page shows it."""

    code: str
    name: str
    kind: str
    active: bool
    region_code: str | None
    supervisor_code: str | None
    supervisor_name: str | None
    units: list[UnitView]
    supervised: list[str]
    open_reports: int


@dataclass(frozen=True)
class RegistryChange:
    """What a rename, merge or split did: the instansi changed, where work went, and counts."""

    action: str  # renamed | merged | split
    code: str
    name: str
    active: bool
    target: str | None = None  # merge: the target; split: the new instansi
    reports: int = 0
    tasks: int = 0
    units: int = 0
    users: int = 0
    supervised: int = 0


def _require_national(principal: Principal) -> None:
    if NATIONAL_ADMIN not in principal.roles():
        raise Forbidden("only national admins change the instansi registry", field="role")


def _instansi(session: Session, code: object, field: str, *, lock: bool = False) -> Instansi:
    found = None
    if isinstance(code, str) and 0 < len(code) <= MAX_CODE:
        stmt = select(Instansi).where(Instansi.code == code)
        found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        shown = code[:MAX_CODE] if isinstance(code, str) else ""
        raise NotFound(f"no instansi '{shown}'", field=field)
    return found


def _name(value: object, field: str = "name") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not MIN_NAME <= len(text) <= MAX_NAME:
        raise InvalidInput(f"a name of {MIN_NAME} to {MAX_NAME} characters", field=field)
    check_storable(text, field)
    return text


def _open_reports(session: Session, instansi_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Report.id)).where(
                Report.current_instansi_id == instansi_id, Report.status.not_in(status.FINAL)
            )
        )
        or 0
    )


def get(session: Session, *, principal: Principal, code: str) -> InstansiDetail:
    """One instansi (active or not) with its units, the instansi it supervises and its count
    of open reports."""
    _require_national(principal)
    with session.begin():
        instansi = _instansi(session, code, "instansi")
        units = session.scalars(
            select(Unit).where(Unit.instansi_id == instansi.id).order_by(Unit.code)
        )
        supervised = session.scalars(
            select(Instansi.code)
            .where(Instansi.supervisor_id == instansi.id, Instansi.active.is_(True))
            .order_by(Instansi.code)
        )
        boss = instansi.supervisor
        return InstansiDetail(
            instansi.code,
            instansi.name,
            instansi.kind,
            instansi.active,
            instansi.region_code,
            boss.code if boss else None,
            boss.name if boss else None,
            [UnitView(u.code, u.name) for u in units],
            list(supervised),
            _open_reports(session, instansi.id),
        )


def rename(session: Session, *, principal: Principal, code: str, name: str) -> RegistryChange:
    """Give the instansi a new name; its code, units and work stay as they are."""
    _require_national(principal)
    name = _name(name)
    with session.begin():
        instansi = _instansi(session, code, "instansi", lock=True)
        if not instansi.active:
            raise Conflict("the instansi is inactive (merged away)", field="instansi")
        if instansi.name == name:
            raise InvalidInput("the instansi already has this name", field="name")
        before = instansi.name
        instansi.name = name
        audit.record(
            session,
            actor=principal.actor,
            action="instansi.renamed",
            data={"code": instansi.code, "before": {"name": before}, "after": {"name": name}},
        )
        return RegistryChange("renamed", instansi.code, name, True)


def _upwards(instansi: Instansi) -> list[Instansi]:
    chain: list[Instansi] = []
    current: Instansi | None = instansi
    while current is not None and current not in chain:
        chain.append(current)
        current = current.supervisor
    return chain


def _still_holds(session: Session, task: HumanTask) -> bool:
    """Whether the task's holder has a role for it at its (new) instansi or unit."""
    unit: ColumnElement[bool] = RoleMembership.unit_id.is_(None)
    if task.unit_id is not None:
        unit = unit | (RoleMembership.unit_id == task.unit_id)
    found = session.scalar(
        select(RoleMembership.id)
        .where(
            RoleMembership.user_id == task.assignee_id,
            RoleMembership.role == task.role,
            RoleMembership.instansi_id == task.instansi_id,
            unit,
        )
        .limit(1)
    )
    return found is not None


def _move_work(
    session: Session,
    *,
    action: str,
    source: Instansi,
    target: Instansi,
    report_ids: Iterable[int],
) -> tuple[int, int]:
    """Move these open reports of `source` to `target`, with their running instances and open
    tasks at `source`; returns (reports, tasks) moved. Runs in the caller's transaction."""
    now = clock.now()
    ids = sorted(set(report_ids))
    reports = session.scalars(select(Report).where(Report.id.in_(ids)).order_by(Report.id)).all()
    moved_tasks = 0
    for report in reports:
        if report.current_instansi_id == source.id:
            report.current_instansi_id = target.id
        if report.target_instansi_id == source.id:
            report.target_instansi_id = target.id
        instances = session.scalars(
            select(ProcessInstance).where(
                ProcessInstance.report_id == report.id,
                ProcessInstance.instansi_id == source.id,
                ProcessInstance.status.in_(LIVE),
            )
        ).all()
        for instance in instances:  # a new version: a completion racing this move gets 409
            instance.instansi_id, instance.updated_at = target.id, now
        tasks = session.scalars(
            select(HumanTask)
            .where(
                HumanTask.report_id == report.id,
                HumanTask.instansi_id == source.id,
                HumanTask.status == "open",
            )
            .order_by(HumanTask.id)
        ).all()
        for task in tasks:
            task.instansi_id = target.id
            if task.assignee_id is not None and not _still_holds(session, task):
                task.assignee_id, task.claimed_at = None, None
        session.flush()
        for task in tasks:  # offered anew at the target: the SLA package re-plans its deadlines
            events.publish(
                session,
                events.Event(
                    events.TASK_OPENED,
                    report.id,
                    {
                        "task_id": task.id,
                        "milestone": task.milestone,
                        "instansi_id": task.instansi_id,
                        "moved_from": source.id,
                    },
                ),
            )
        moved_tasks += len(tasks)
        add_timeline(
            session,
            report,
            TIMELINE_KIND,
            public=False,
            data={
                "action": action,
                "from_instansi": source.code,
                "instansi": target.code,
                "instansi_name": target.name,
                "tasks": len(tasks),
            },
        )
    return len(reports), moved_tasks


def _reports_at(session: Session, source: Instansi, *, units: set[int] | None = None) -> set[int]:
    """Open reports at `source` (only those at `units` when given), with those whose open
    tasks or running instances are there."""
    reports = select(Report.id).where(Report.status.not_in(status.FINAL))
    tasks = select(HumanTask.report_id).where(
        HumanTask.instansi_id == source.id, HumanTask.status == "open"
    )
    if units is None:
        reports = reports.where(
            or_(Report.current_instansi_id == source.id, Report.target_instansi_id == source.id)
        )
        instances = select(ProcessInstance.report_id).where(
            ProcessInstance.instansi_id == source.id, ProcessInstance.status.in_(LIVE)
        )
        found = set(session.scalars(instances))
    else:
        reports = reports.where(
            Report.current_instansi_id == source.id, Report.current_unit_id.in_(units)
        )
        tasks = tasks.where(HumanTask.unit_id.in_(units))
        found = set()
    return found | set(session.scalars(reports)) | set(session.scalars(tasks))


def _counts(change: RegistryChange) -> dict[str, int]:
    return {
        "reports": change.reports,
        "tasks": change.tasks,
        "units": change.units,
        "users": change.users,
        "supervised": change.supervised,
    }


def merge(
    session: Session, *, principal: Principal, source_code: str, target_code: str
) -> RegistryChange:
    """Fold `source` into `target`: units, memberships, supervised instansi and open work move
    to the target; the source stays in the registry, inactive."""
    _require_national(principal)
    try:
        with session.begin():
            source = _instansi(session, source_code, "instansi", lock=True)
            target = _instansi(session, target_code, "into", lock=True)
            if source.id == target.id:
                raise Conflict("an instansi cannot be merged into itself", field="into")
            if not source.active:
                raise Conflict("the instansi is already inactive (merged away)", field="instansi")
            if not target.active:
                raise Conflict(f"instansi '{target.code}' is inactive", field="into")
            if source in _upwards(target):
                raise Conflict(
                    f"'{target.code}' is supervised by '{source.code}': merging would make "
                    "it supervise itself",
                    field="into",
                )
            report_ids = _reports_at(session, source)
            units = session.scalars(select(Unit).where(Unit.instansi_id == source.id)).all()
            for unit in units:
                unit.instansi_id = target.id
            supervised = session.scalars(
                select(Instansi).where(Instansi.supervisor_id == source.id)
            ).all()
            for child in supervised:
                child.supervisor_id = target.id
            users = _move_memberships(session, source, target)
            reports, tasks = _move_work(
                session, action="merge", source=source, target=target, report_ids=report_ids
            )
            source.active = False
            change = RegistryChange(
                "merged",
                source.code,
                source.name,
                False,
                target=target.code,
                reports=reports,
                tasks=tasks,
                units=len(units),
                users=users,
                supervised=len(supervised),
            )
            audit.record(
                session,
                actor=principal.actor,
                action="instansi.merged",
                data={
                    "code": source.code,
                    "into": target.code,
                    "before": {"active": True, "units": sorted(u.code for u in units)},
                    "after": {"active": False, "units": [], "units_at": target.code},
                    "supervised": sorted(c.code for c in supervised),
                    "counts": _counts(change),
                },
            )
            return change
    except StaleDataError as exc:
        raise Conflict(
            "a report of the instansi changed meanwhile; try again", field="instansi"
        ) from exc


def _move_memberships(session: Session, source: Instansi, target: Instansi) -> int:
    """Every role held in the source (or its units) is held in the target; returns users."""
    rows = session.scalars(
        select(RoleMembership).where(RoleMembership.instansi_id == source.id)
    ).all()
    held = {
        (m.user_id, m.role, m.unit_id)
        for m in session.scalars(
            select(RoleMembership).where(RoleMembership.instansi_id == target.id)
        )
    }
    for row in rows:
        if (row.user_id, row.role, row.unit_id) in held:
            session.delete(row)  # the user already has this role at the target
        else:
            row.instansi_id = target.id
            held.add((row.user_id, row.role, row.unit_id))
    return len({row.user_id for row in rows})


def split(
    session: Session,
    *,
    principal: Principal,
    source_code: str,
    new_code: str,
    new_name: str,
    unit_codes: list[str],
) -> RegistryChange:
    """Make a new instansi from some units of `source`: it takes those units, the roles held
    in them, and the open reports currently at them (with their tasks and instances)."""
    _require_national(principal)
    new_name = _name(new_name)
    if not isinstance(new_code, str) or not (
        0 < len(new_code) <= MAX_CODE and CODE.match(new_code)
    ):
        raise InvalidInput(
            f"a code of letters, digits, '.', '_' or '-' (at most {MAX_CODE})", field="code"
        )
    codes = list(dict.fromkeys(c for c in unit_codes if isinstance(c, str)))
    if not codes or len(codes) != len(unit_codes) or len(codes) > MAX_UNITS:
        raise InvalidInput(f"1 to {MAX_UNITS} different unit codes", field="units")
    try:
        with session.begin():
            source = _instansi(session, source_code, "instansi", lock=True)
            if not source.active:
                raise Conflict("the instansi is inactive (merged away)", field="instansi")
            if session.scalar(select(Instansi.id).where(Instansi.code == new_code)) is not None:
                raise Conflict(f"the instansi code '{new_code}' is taken", field="code")
            units = session.scalars(select(Unit).where(Unit.code.in_(codes))).all()
            unknown = sorted(set(codes) - {u.code for u in units})
            if unknown:
                raise NotFound(f"no unit {', '.join(unknown)}", field="units")
            elsewhere = sorted(u.code for u in units if u.instansi_id != source.id)
            if elsewhere:
                raise InvalidInput(
                    f"not units of '{source.code}': {', '.join(elsewhere)}", field="units"
                )
            new = Instansi(
                code=new_code,
                name=new_name,
                kind=source.kind,
                timezone=source.timezone,
                supervisor_id=source.supervisor_id,
                region_code=source.region_code,
                active=True,
            )
            session.add(new)
            session.flush()
            unit_ids = {u.id for u in units}
            report_ids = _reports_at(session, source, units=unit_ids)
            for unit in units:
                unit.instansi_id = new.id
            memberships = session.scalars(
                select(RoleMembership).where(RoleMembership.unit_id.in_(unit_ids))
            ).all()
            for row in memberships:
                row.instansi_id = new.id
            reports, tasks = _move_work(
                session, action="split", source=source, target=new, report_ids=report_ids
            )
            change = RegistryChange(
                "split",
                source.code,
                source.name,
                True,
                target=new.code,
                reports=reports,
                tasks=tasks,
                units=len(units),
                users=len({m.user_id for m in memberships}),
            )
            audit.record(
                session,
                actor=principal.actor,
                action="instansi.split",
                data={
                    "code": source.code,
                    "new": {
                        "code": new.code,
                        "name": new.name,
                        "kind": new.kind,
                        "supervisor_id": new.supervisor_id,
                        "region_code": new.region_code,
                    },
                    "before": {"units_of": {c: source.code for c in sorted(codes)}},
                    "after": {"units_of": {c: new.code for c in sorted(codes)}},
                    "counts": _counts(change),
                },
            )
            return change
    except StaleDataError as exc:
        raise Conflict(
            "a report of the instansi changed meanwhile; try again", field="instansi"
        ) from exc
