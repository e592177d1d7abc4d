"""Incidents: process instances an engine failure stopped (status `incident`), for operators.

A script or condition that fails inside the engine leaves its instance in incident (see
`engine.services.driver`). Operators (`admin_nasional`) list the incidents and retry one: its
failed tasks run again, then its engine steps; on success it runs on (or completes) and the
incident is cleared, on another failure it stays in incident with the new error. A broken script
is fixed by deploying a corrected version and moving the instance to it first
(`engine.services.migration`). Each retry is one audited transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.db import valid_id
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import ProcessInstance, Report
from engine.runtime import Workflow
from engine.services import audit, driver, reports
from engine.services.auth import Principal

OPERATOR = "admin_nasional"
MAX_LIMIT = 200


@dataclass(frozen=True)
class IncidentView:
    """An instance as operators see it: where it runs and what stopped it."""

    instance_id: int
    report_id: int
    tracking_id: str
    definition_key: str
    definition_version: int
    instansi_id: int | None
    status: str
    incident: str | None
    incident_at: datetime | None
    failed_tasks: list[str]


@dataclass(frozen=True)
class RetryOutcome:
    view: IncidentView
    retried: list[str]  # BPMN ids of the tasks run again


def require_operator(principal: Principal, action: str) -> None:
    """Refuse, before touching the database, anyone who is not a national admin."""
    if OPERATOR not in principal.roles():
        raise Forbidden(f"only {OPERATOR} may {action}", field="role")


def _view(instance: ProcessInstance, tracking_id: str) -> IncidentView:
    definition = instance.definition
    failed = (
        Workflow.load(instance.state_json, definition.spec_json).failed_tasks()
        if instance.status == driver.INCIDENT
        else []
    )
    return IncidentView(
        instance_id=instance.id,
        report_id=instance.report_id,
        tracking_id=tracking_id,
        definition_key=definition.key,
        definition_version=definition.version,
        instansi_id=instance.instansi_id,
        status=instance.status,
        incident=instance.incident,
        incident_at=instance.incident_at,
        failed_tasks=failed,
    )


def list_incidents(
    session: Session, *, principal: Principal, limit: int = 50, offset: int = 0
) -> list[IncidentView]:
    """The instances in incident, the latest failure first."""
    require_operator(principal, "see incidents")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInput("offset must be 0 or more", field="offset")
    with session.begin():
        rows = session.execute(
            select(ProcessInstance, Report.tracking_id)
            .join(Report, Report.id == ProcessInstance.report_id)
            .where(ProcessInstance.status == driver.INCIDENT)
            .order_by(ProcessInstance.incident_at.desc(), ProcessInstance.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return [_view(instance, tracking_id) for instance, tracking_id in rows]


def retry(session: Session, *, principal: Principal, instance_id: int) -> RetryOutcome:
    """Run an instance in incident again (audited `instance.retried`, with the outcome)."""
    require_operator(principal, "retry incidents")
    if not valid_id(instance_id):
        raise NotFound("no such process instance", field="instance_id")
    try:
        with session.begin():
            instance = session.get(ProcessInstance, instance_id, with_for_update=True)
            if instance is None:
                raise NotFound("no such process instance", field="instance_id")
            if instance.status != driver.INCIDENT:
                raise Conflict(
                    f"the instance is not in incident (status '{instance.status}')",
                    field="instance_id",
                )
            report = session.get(Report, instance.report_id)
            assert report is not None
            retried = driver.retry_incident(session, report=report, instance=instance)
            reports.after_retry(session, report=report, instance=instance)
            audit.record(
                session,
                actor=principal.actor,
                action="instance.retried",
                report_id=report.id,
                instance_id=instance.id,
                data={"tasks": retried, "status": instance.status, "incident": instance.incident},
            )
            outcome = RetryOutcome(_view(instance, report.tracking_id), retried)
    except StaleDataError as exc:
        raise Conflict(
            "someone else changed this instance at the same moment; try again",
            field="instance_id",
        ) from exc
    return outcome
