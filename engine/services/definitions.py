"""Deploy BPMN process definitions as versions, and pick the SOP that handles an instansi."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidInput, NotFound
from engine.models import Instansi, ProcessDefinition
from engine.runtime import BpmnError, compile_bpmn

INTAKE_KEY = "intake"
DEFAULT_SOP_KEY = "sop-default"


def deploy(
    session: Session,
    *,
    key: str,
    xml: bytes,
    kind: str,
    instansi_id: int | None = None,
    filename: str = "upload.bpmn",
) -> ProcessDefinition:
    """Validate and store a new version of `key`; identical XML returns the existing version.

    Runs inside the caller's transaction (the caller commits).
    """
    try:
        compiled = compile_bpmn(xml, filename=filename)
    except BpmnError as exc:
        place = [f"element {exc.element_id}"] if exc.element_id else []
        place += [f"line {exc.line}"] if exc.line else []
        where = f" ({', '.join(place)})" if place else ""
        raise InvalidInput(f"invalid BPMN: {exc.message}{where}", field="bpmn") from exc
    existing = session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.key == key, ProcessDefinition.checksum == compiled.checksum
        )
    )
    if existing is not None:
        return existing
    latest = session.scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)
    )
    definition = ProcessDefinition(
        key=key,
        version=(latest or 0) + 1,
        kind=kind,
        instansi_id=instansi_id,
        process_id=compiled.process_id,
        bpmn_xml=xml.decode("utf-8"),
        checksum=compiled.checksum,
        spec_json=compiled.spec_json,
        task_meta=compiled.task_meta_json(),
        created_at=clock.now(),
    )
    session.add(definition)
    session.flush()
    return definition


def deploy_national(session: Session, bpmn_dir: Path) -> list[ProcessDefinition]:
    """Deploy the national intake and default SOP from `bpmn_dir/national` (idempotent)."""
    national = bpmn_dir / "national"
    return [
        deploy(
            session,
            key=INTAKE_KEY,
            kind="intake",
            xml=(national / "intake.bpmn").read_bytes(),
            filename="intake.bpmn",
        ),
        deploy(
            session,
            key=DEFAULT_SOP_KEY,
            kind="sop",
            xml=(national / "sop-default.bpmn").read_bytes(),
            filename="sop-default.bpmn",
        ),
    ]


def _newest(session: Session, *conditions: object) -> ProcessDefinition | None:
    return session.scalar(
        select(ProcessDefinition)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


def newest_intake(session: Session) -> ProcessDefinition:
    found = _newest(session, ProcessDefinition.key == INTAKE_KEY)
    if found is None:
        raise NotFound("the national intake process is not deployed; run `lapor deploy`")
    return found


def sop_for(session: Session, instansi: Instansi) -> ProcessDefinition:
    """The newest SOP of the instansi, else of its supervisors up the tree, else the default."""
    seen: set[int] = set()
    current: Instansi | None = instansi
    while current is not None and current.id not in seen:
        seen.add(current.id)
        found = _newest(
            session, ProcessDefinition.kind == "sop", ProcessDefinition.instansi_id == current.id
        )
        if found is not None:
            return found
        current = current.supervisor
    found = _newest(session, ProcessDefinition.key == DEFAULT_SOP_KEY)
    if found is None:
        raise NotFound("the national default SOP is not deployed; run `lapor deploy`")
    return found
