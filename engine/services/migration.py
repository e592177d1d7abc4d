"""Move the live instances of one version of a process definition to another version of it.

`plan` reports, for every instance of `from_version` that is running or in incident, whether it
can move to `to_version` and why not (the rules are in `engine.runtime.migration`). `migrate`
moves those that can (all of them, or only the ones named) in one transaction: each gets the new
definition and its moved engine state, its open human tasks are synced as after any engine step
(a task whose BPMN id still exists keeps its row, so its claim and due date stay), and each move
is audited (`instance.migrated`). Instances not named, or that cannot move, stay on their
version. Nothing runs the moved instances: one in incident stays there until an operator
retries it (`engine.services.incidents`), now on the new definitions.

Who may: national admins, and process designers: a national one (no instansi) for every
definition, an instansi's for the definitions of that instansi.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.db import valid_id
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import ProcessDefinition, ProcessInstance, Report
from engine.runtime import migration
from engine.services import audit, driver
from engine.services.auth import Principal
from engine.text import check_storable

NATIONAL, DESIGNER = "admin_nasional", "process_designer"
MAX_KEY = 64


@dataclass(frozen=True)
class PlanEntry:
    """One live instance of the old version and what a move would do to it."""

    instance_id: int
    report_id: int
    tracking_id: str
    status: str
    can_move: bool
    reasons: list[str]
    changes: list[str]
    moved: bool = False


@dataclass(frozen=True)
class MigrationResult:
    key: str
    from_version: int
    to_version: int
    dry_run: bool
    instances: list[PlanEntry] = field(default_factory=list)

    @property
    def moved(self) -> list[int]:
        return [e.instance_id for e in self.instances if e.moved]

    @property
    def skipped(self) -> list[int]:
        return [e.instance_id for e in self.instances if not e.moved]


def _require_role(principal: Principal) -> None:
    if not principal.roles() & {NATIONAL, DESIGNER}:
        raise Forbidden(f"only {NATIONAL} or {DESIGNER} may move process instances", field="role")


def _authorise(principal: Principal, definition: ProcessDefinition) -> None:
    for m in principal.memberships:
        if m.role == NATIONAL or (
            m.role == DESIGNER and m.instansi_id in (None, definition.instansi_id)
        ):
            return
    if DESIGNER in principal.roles():  # another instansi's designer: its SOPs are not visible
        raise NotFound(f"no process definition '{definition.key}'", field="key")
    raise Forbidden(
        f"only designers of this process may move its instances ('{definition.key}')",
        field="role",
    )


def _versions(
    session: Session, principal: Principal, key: str, from_version: int, to_version: int
) -> tuple[ProcessDefinition, ProcessDefinition]:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise NotFound(f"no process definition '{key}'", field="key")
    check_storable(key, "key")
    for name, version in (("from_version", from_version), ("to_version", to_version)):
        if not valid_id(version):
            raise InvalidInput(f"{name} must be a version number (1 or more)", field=name)
    if from_version == to_version:
        raise InvalidInput(
            "to_version must differ from from_version (both name the same version)",
            field="to_version",
        )
    found = {
        d.version: d
        for d in session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.key == key,
                ProcessDefinition.version.in_((from_version, to_version)),
            )
        )
    }
    some = next(iter(found.values()), None) or session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key).limit(1)
    )
    if some is None:
        raise NotFound(f"no process definition '{key}'", field="key")
    _authorise(principal, some)
    for name, version in (("from_version", from_version), ("to_version", to_version)):
        if version not in found:
            raise NotFound(f"'{key}' has no version {version}", field=name)
    return found[from_version], found[to_version]


def _live(
    session: Session, definition: ProcessDefinition, *, lock: bool = False
) -> list[tuple[ProcessInstance, str]]:
    stmt = (
        select(ProcessInstance, Report.tracking_id)
        .join(Report, Report.id == ProcessInstance.report_id)
        .where(
            ProcessInstance.definition_id == definition.id,
            ProcessInstance.status.in_(driver.LIVE),
        )
        .order_by(ProcessInstance.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=ProcessInstance)
    return [(instance, tracking) for instance, tracking in session.execute(stmt).all()]


def _entry(
    instance: ProcessInstance, tracking_id: str, check: migration.MoveCheck, *, moved: bool
) -> PlanEntry:
    return PlanEntry(
        instance_id=instance.id,
        report_id=instance.report_id,
        tracking_id=tracking_id,
        status=instance.status,
        can_move=check.can_move,
        reasons=list(check.reasons),
        changes=list(check.changes),
        moved=moved,
    )


def plan(
    session: Session, *, principal: Principal, key: str, from_version: int, to_version: int
) -> MigrationResult:
    """Which live instances of `from_version` could move to `to_version`, and why not."""
    _require_role(principal)
    with session.begin():
        old, new = _versions(session, principal, key, from_version, to_version)
        entries = [
            _entry(
                instance,
                tracking,
                migration.check(instance.state_json, old.spec_json, new.spec_json),
                moved=False,
            )
            for instance, tracking in _live(session, old)
        ]
    return MigrationResult(key, from_version, to_version, True, entries)


def _selected(
    rows: list[tuple[ProcessInstance, str]], instance_ids: Sequence[int] | None, from_version: int
) -> list[tuple[ProcessInstance, str]]:
    if instance_ids is None:
        return rows
    if not instance_ids:
        raise InvalidInput(
            "name at least one instance, or leave instance_ids out", field="instance_ids"
        )
    live = {instance.id for instance, _ in rows}
    strangers = sorted({i for i in instance_ids if i not in live})
    if strangers:
        names = ", ".join(str(i) for i in strangers[:10])
        raise InvalidInput(
            f"not running on version {from_version}: instance(s) {names}", field="instance_ids"
        )
    wanted = set(instance_ids)
    return [(instance, tracking) for instance, tracking in rows if instance.id in wanted]


def migrate(
    session: Session,
    *,
    principal: Principal,
    key: str,
    from_version: int,
    to_version: int,
    instance_ids: Sequence[int] | None = None,
) -> MigrationResult:
    """Move the live instances of `from_version` that can move (or those of `instance_ids`)
    to `to_version`; one transaction, each move audited."""
    _require_role(principal)
    entries: list[PlanEntry] = []
    try:
        with session.begin():
            old, new = _versions(session, principal, key, from_version, to_version)
            rows = _selected(_live(session, old, lock=True), instance_ids, from_version)
            for instance, tracking in rows:
                try:
                    check, state = migration.move(instance.state_json, old.spec_json, new.spec_json)
                except migration.CannotMove as exc:
                    entries.append(_entry(instance, tracking, exc.check, moved=False))
                    continue
                _apply(session, instance, new, state)
                audit.record(
                    session,
                    actor=principal.actor,
                    action="instance.migrated",
                    report_id=instance.report_id,
                    instance_id=instance.id,
                    data={
                        "key": key,
                        "from_version": from_version,
                        "to_version": to_version,
                        "changes": list(check.changes),
                    },
                )
                entries.append(_entry(instance, tracking, check, moved=True))
    except StaleDataError as exc:
        raise Conflict(
            "an instance changed at the same moment; plan again", field="instance_ids"
        ) from exc
    return MigrationResult(key, from_version, to_version, False, entries)


def _apply(
    session: Session, instance: ProcessInstance, definition: ProcessDefinition, state: str
) -> None:
    """Give the instance the new definition and state, then save and sync it like any step."""
    instance.definition_id = definition.id
    instance.definition = definition
    instance.state_json = state
    report = session.get(Report, instance.report_id)
    assert report is not None
    wf = driver.load_workflow(session, instance)
    driver.settle(session, report=report, instance=instance, wf=wf)
