"""What process designers do with BPMN definitions: validate, deploy, list, read, roll back.

A `process_designer` of an instansi works on that instansi's SOP (key `sop-<code>`); a national
designer (no instansi) on the national default SOP and on any instansi's SOP. National admins
may read everything. A definition the principal may not see answers `NotFound`, like a missing
one, so keys of other instansi are not confirmed by guessing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import valid_id
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import Instansi, ProcessDefinition, ProcessInstance
from engine.services import audit, bpmn_lint, definitions
from engine.services.auth import Principal
from engine.services.definitions import DEFAULT_SOP_KEY, Deployment

DESIGNER, NATIONAL_ADMIN = "process_designer", "admin_nasional"
MAX_CODE, MAX_KEY = 32, 64


@dataclass(frozen=True)
class VersionView:
    version: int
    checksum: str
    process_id: str
    created_at: datetime
    released_at: datetime
    running_instances: int
    current: bool


@dataclass(frozen=True)
class DefinitionView:
    key: str
    kind: str
    instansi: str | None
    versions: list[VersionView]


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Two deployments or roll backs of one key at the same moment: the unique version and
    release numbers let only one commit; the other gets a 409 to try again."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(
            "another deployment of this process happened at the same moment; try again",
            field="bpmn",
        ) from exc


def _designer_scopes(principal: Principal) -> set[int | None]:
    """Instansi ids the principal designs for; None stands for the national processes."""
    return {m.instansi_id for m in principal.memberships if m.role == DESIGNER}


def _is_national_designer(principal: Principal) -> bool:
    return None in _designer_scopes(principal)


def _may_read(principal: Principal, definition: ProcessDefinition) -> bool:
    if _is_national_designer(principal) or NATIONAL_ADMIN in principal.roles():
        return True
    scopes = _designer_scopes(principal)
    return bool(scopes) and (definition.instansi_id is None or definition.instansi_id in scopes)


def _require_designer(principal: Principal) -> None:
    if not _designer_scopes(principal):
        raise Forbidden("only process designers may do this", field="role")


def target_of(session: Session, principal: Principal, instansi_code: str | None) -> Instansi | None:
    """The instansi a deployment is for (None: the national default SOP), checked against the
    designer's scope. Without a code, an instansi designer deploys for their own instansi."""
    _require_designer(principal)
    scopes = _designer_scopes(principal)
    if instansi_code is None:
        if None in scopes:
            return None
        if len(scopes) > 1:
            raise InvalidInput(
                "you design for several instansi: name one with `instansi`", field="instansi"
            )
        (only,) = scopes
        return session.get(Instansi, only)
    if len(instansi_code) > MAX_CODE:
        raise InvalidInput(f"at most {MAX_CODE} characters", field="instansi")
    instansi = session.scalar(select(Instansi).where(Instansi.code == instansi_code))
    if instansi is None:
        raise NotFound(f"no instansi with code '{instansi_code}'", field="instansi")
    if None not in scopes and instansi.id not in scopes:
        raise Forbidden(
            f"you do not design processes for instansi '{instansi_code}'", field="instansi"
        )
    return instansi


def validate(principal: Principal, xml: bytes) -> bpmn_lint.LintReport:
    """Lint a file without deploying it."""
    _require_designer(principal)
    return bpmn_lint.lint(xml)


def deploy(
    session: Session,
    *,
    principal: Principal,
    xml: bytes,
    instansi_code: str | None = None,
    filename: str = "upload.bpmn",
) -> tuple[Deployment, Instansi | None]:
    """Lint and deploy a new version of the target's SOP; an identical file already deployed
    becomes the current version again (that is how a designer rolls back)."""
    with _one_at_a_time(), session.begin():
        instansi = target_of(session, principal, instansi_code)
        key = DEFAULT_SOP_KEY if instansi is None else f"sop-{instansi.code}"
        deployment = definitions.deploy_checked(
            session,
            key=key,
            kind="sop",
            xml=xml,
            instansi_id=instansi.id if instansi else None,
            filename=filename,
        )
        definition = deployment.definition
        current = definitions.current_version(session, key)
        if not deployment.created and current is not None and current.id != definition.id:
            definitions.release(session, definition)
        if deployment.created or (current is not None and current.id != definition.id):
            audit.record(
                session,
                actor=principal.actor,
                action="definition.deployed" if deployment.created else "definition.released",
                data={
                    "key": key,
                    "version": definition.version,
                    "checksum": definition.checksum,
                    "warnings": len(deployment.warnings),
                },
            )
    return deployment, instansi


def _visible(session: Session, principal: Principal, key: str) -> list[ProcessDefinition]:
    if len(key) > MAX_KEY:
        raise NotFound(f"no process definition '{key[:MAX_KEY]}...'", field="key")
    rows = list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.key == key)
            .order_by(ProcessDefinition.version)
        )
    )
    if not rows or not _may_read(principal, rows[0]):
        raise NotFound(f"no process definition '{key}'", field="key")
    return rows


def _running_counts(session: Session, ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(
            ProcessInstance.definition_id.in_(ids),
            ProcessInstance.status.in_(("running", "incident")),
        )
        .group_by(ProcessInstance.definition_id)
    )
    return {definition_id: count for definition_id, count in rows}


def _view(session: Session, rows: list[ProcessDefinition]) -> DefinitionView:
    counts = _running_counts(session, [r.id for r in rows])
    current = max(rows, key=definitions.release_order)
    instansi = session.get(Instansi, rows[0].instansi_id) if rows[0].instansi_id else None
    return DefinitionView(
        key=rows[0].key,
        kind=rows[0].kind,
        instansi=instansi.code if instansi else None,
        versions=[
            VersionView(
                version=r.version,
                checksum=r.checksum,
                process_id=r.process_id,
                created_at=r.created_at,
                released_at=r.released_at,
                running_instances=counts.get(r.id, 0),
                current=r.id == current.id,
            )
            for r in rows
        ],
    )


def list_definitions(session: Session, *, principal: Principal) -> list[DefinitionView]:
    """The definitions the principal may read, each with all its versions."""
    if not _designer_scopes(principal) and NATIONAL_ADMIN not in principal.roles():
        raise Forbidden("only process designers and national admins may do this", field="role")
    with session.begin():
        rows = session.scalars(
            select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)
        )
        by_key: dict[str, list[ProcessDefinition]] = {}
        for row in rows:
            if _may_read(principal, row):
                by_key.setdefault(row.key, []).append(row)
        return [_view(session, versions) for versions in by_key.values()]


def get_definition(session: Session, *, principal: Principal, key: str) -> DefinitionView:
    with session.begin():
        return _view(session, _visible(session, principal, key))


def _check_version(version: int) -> None:
    if not valid_id(version):
        raise NotFound(f"no version {version}", field="version")


def version_xml(session: Session, *, principal: Principal, key: str, version: int) -> str:
    _check_version(version)
    with session.begin():
        for row in _visible(session, principal, key):
            if row.version == version:
                return row.bpmn_xml
    raise NotFound(f"'{key}' has no version {version}", field="version")


def rollback(session: Session, *, principal: Principal, key: str, version: int) -> DefinitionView:
    """Make an earlier version current again: new reports start on it; running ones stay."""
    _check_version(version)
    with _one_at_a_time(), session.begin():
        rows = _visible(session, principal, key)
        target = next((r for r in rows if r.version == version), None)
        if target is None:
            raise NotFound(f"'{key}' has no version {version}", field="version")
        scopes = _designer_scopes(principal)
        if None not in scopes and target.instansi_id not in scopes:
            raise Forbidden(f"you do not design '{key}'", field="key")
        current = max(rows, key=definitions.release_order)
        if current.id != target.id:
            definitions.release(session, target)
            audit.record(
                session,
                actor=principal.actor,
                action="definition.rolled_back",
                data={"key": key, "version": version, "from_version": current.version},
            )
        return _view(session, rows)
