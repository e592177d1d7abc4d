"""Deploy BPMN process definitions as versions, and pick the SOP that handles an instansi."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidInput, NotFound
from engine.models import Instansi, ProcessDefinition
from engine.services import bpmn_lint

INTAKE_KEY = "intake"
DEFAULT_SOP_KEY = "sop-default"


class InvalidBpmn(InvalidInput):
    """A BPMN file the linter refused; the problem body lists every finding."""

    def __init__(self, report: bpmn_lint.LintReport) -> None:
        first = (
            report.errors[0] if report.errors else bpmn_lint.Finding("the file does not compile")
        )
        more = len(report.errors) - 1
        super().__init__(
            f"invalid BPMN: {first}" + (f" (and {more} more)" if more > 0 else ""),
            field="bpmn",
            extra={
                "errors": [f.as_dict() for f in report.errors],
                "warnings": [f.as_dict() for f in report.warnings],
            },
        )
        self.report = report


@dataclass(frozen=True)
class Deployment:
    definition: ProcessDefinition
    created: bool
    warnings: list[bpmn_lint.Finding]


def deploy_checked(
    session: Session,
    *,
    key: str,
    xml: bytes,
    kind: str,
    instansi_id: int | None = None,
    filename: str = "upload.bpmn",
) -> Deployment:
    """Lint, then store a new version of `key`; identical XML returns the existing version.

    Nothing is stored unless the linter finds no error. Runs inside the caller's transaction
    (the caller commits).
    """
    report = bpmn_lint.lint(xml, filename=filename)
    if not report.ok or report.compiled is None:
        raise InvalidBpmn(report)
    compiled = report.compiled
    existing = session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.key == key, ProcessDefinition.checksum == compiled.checksum
        )
    )
    if existing is not None:
        return Deployment(existing, False, report.warnings)
    latest = session.scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)
    )
    now = clock.now()
    definition = ProcessDefinition(
        key=key,
        version=(latest or 0) + 1,
        release_seq=_next_release(session, key),
        released_at=now,
        kind=kind,
        instansi_id=instansi_id,
        process_id=compiled.process_id,
        bpmn_xml=xml.decode("utf-8"),
        checksum=compiled.checksum,
        spec_json=compiled.spec_json,
        task_meta=compiled.task_meta_json(),
        created_at=now,
    )
    session.add(definition)
    session.flush()
    return Deployment(definition, True, report.warnings)


def deploy(
    session: Session,
    *,
    key: str,
    xml: bytes,
    kind: str,
    instansi_id: int | None = None,
    filename: str = "upload.bpmn",
) -> ProcessDefinition:
    """`deploy_checked` for callers that need only the definition."""
    return deploy_checked(
        session, key=key, xml=xml, kind=kind, instansi_id=instansi_id, filename=filename
    ).definition


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


def _next_release(session: Session, key: str) -> int:
    latest = session.scalar(
        select(func.max(ProcessDefinition.release_seq)).where(ProcessDefinition.key == key)
    )
    return (latest or 0) + 1


def release_order(definition: ProcessDefinition) -> int:
    return definition.release_seq


def release(session: Session, definition: ProcessDefinition) -> None:
    """Make `definition` the current version of its key (a roll back, or a re-deploy of it)."""
    definition.release_seq = _next_release(session, definition.key)
    definition.released_at = clock.now()
    session.flush()


def _newest(session: Session, *conditions: object) -> ProcessDefinition | None:
    """The current (last released) definition matching `conditions`."""
    return session.scalar(
        select(ProcessDefinition)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(ProcessDefinition.release_seq.desc())
        .limit(1)
    )


def current_version(session: Session, key: str) -> ProcessDefinition | None:
    return _newest(session, ProcessDefinition.key == key)


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
