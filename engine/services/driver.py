"""Drive process instances: save engine state, sync human-task rows, and join the two levels.

The national intake waits at a message catch for `instansi_result` while the instansi's SOP runs
as a separate child instance; when the child ends, its `result` is delivered to the intake.
Every settle announces the BPMN timer moments the instance waits for (`INSTANCE_SETTLED`), so
the SLA package can keep a deadline per moment; firing one calls `wake_timers`.

A script or condition that fails inside the engine never fails the request that ran it: the
workflows this module hands out keep the failure instead of raising it, the failed task stays in
state ERROR, and `settle` saves the state and puts the instance in status `incident` (with the
error and its time, audited). What succeeded before the failure (a completed human task) stays
done. An instance in incident is not woken by its timers; `retry_incident` runs it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock, events
from engine.errors import Conflict, NotFound
from engine.models import HumanTask, Instansi, ProcessDefinition, ProcessInstance, Report
from engine.models.users import UNIT_ROLES, role_for_lane
from engine.runtime import Workflow
from engine.runtime.workflow import EngineFailure
from engine.services import audit, definitions

RUNNING, INCIDENT, COMPLETED, CANCELLED = "running", "incident", "completed", "cancelled"
LIVE = (RUNNING, INCIDENT)  # not finished; an instance in incident waits for a retry
INCIDENT_TEXT_LIMIT = 4000
INSTANSI_RESULT = "instansi_result"
INSTANCE_LOADED = "instance.loaded"


T = TypeVar("T")


class _Contained(Workflow):
    """A workflow that keeps an engine failure in `failure` instead of raising it; the failed
    task is left in state ERROR, and `settle` turns the failure into an incident."""

    failure: str | None = None

    def _step(self, step: Callable[..., T], *args: Any, otherwise: T) -> T:
        try:
            result: T = step(*args)
        except EngineFailure as exc:
            self.failure = str(exc) or type(exc.__cause__).__name__
            return otherwise
        return result

    def advance(self) -> None:
        self._step(super().advance, otherwise=None)

    def complete_task(self, guid: str, data: dict[str, Any]) -> None:
        self._step(super().complete_task, guid, data, otherwise=None)

    def deliver_message(self, name: str, payload: dict[str, Any]) -> None:
        self._step(super().deliver_message, name, payload, otherwise=None)

    def refresh_timers(self) -> bool:
        return self._step(super().refresh_timers, otherwise=True)

    def retry(self) -> list[str]:
        failed = self.failed_tasks()
        return self._step(super().retry, otherwise=failed)


def failure_of(wf: Workflow) -> str | None:
    """The engine failure the last steps of `wf` ran into (None: they all succeeded)."""
    return wf.failure if isinstance(wf, _Contained) else None


def load_workflow(session: Session, instance: ProcessInstance) -> Workflow:
    """Restore an instance's engine state from the database and announce it (tests may wait).

    Engine failures of the returned workflow's steps are kept for `settle` (see the module)."""
    wf = _Contained.load(instance.state_json, instance.definition.spec_json)
    events.publish(
        session, events.Event(INSTANCE_LOADED, instance.report_id, {"instance_id": instance.id})
    )
    return wf


def start_instance(
    session: Session,
    *,
    report: Report,
    definition: ProcessDefinition,
    data: dict[str, Any],
    parent: ProcessInstance | None = None,
    instansi_id: int | None = None,
) -> ProcessInstance:
    wf = _Contained.new(definition.checksum, definition.spec_json, data)
    wf.advance()
    now = clock.now()
    instance = ProcessInstance(
        report_id=report.id,
        definition_id=definition.id,
        definition=definition,
        parent_id=parent.id if parent else None,
        instansi_id=instansi_id,
        status=RUNNING,
        state_json=wf.dump(),
        serializer_version=wf.serializer_version,
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    settle(session, report=report, instance=instance, wf=wf)
    return instance


def running_child(session: Session, instance: ProcessInstance) -> ProcessInstance | None:
    return session.scalar(
        select(ProcessInstance).where(
            ProcessInstance.parent_id == instance.id, ProcessInstance.status.in_(LIVE)
        )
    )


def running_instance(session: Session, report: Report, kind: str) -> ProcessInstance:
    found = session.scalar(
        select(ProcessInstance)
        .join(ProcessDefinition)
        .where(
            ProcessInstance.report_id == report.id,
            ProcessInstance.status == RUNNING,
            ProcessDefinition.kind == kind,
        )
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    )
    if found is None:
        raise Conflict("this report has no running process at that step", field="tracking_id")
    return found


def settle(session: Session, *, report: Report, instance: ProcessInstance, wf: Workflow) -> None:
    """Persist the engine state after a step and carry its consequences to tasks and levels."""
    now = clock.now()
    instance.state_json = wf.dump()
    instance.serializer_version = wf.serializer_version
    instance.updated_at = now
    _sync_tasks(session, report=report, instance=instance, wf=wf)
    if wf.completed:
        instance.status = COMPLETED
        instance.completed_at = now
    else:
        _track_incident(session, report=report, instance=instance, wf=wf)
    _announce_settled(session, report=report, instance=instance, wf=wf)
    if wf.completed:
        if instance.parent_id is not None:
            _report_to_parent(session, report=report, child=instance, result=wf.data)
        return
    if instance.status == INCIDENT:
        return
    if (
        instance.definition.kind == "intake"
        and INSTANSI_RESULT in wf.waiting_messages()
        and running_child(session, instance) is None
    ):
        _start_sop(session, report=report, intake=instance)


def _track_incident(
    session: Session, *, report: Report, instance: ProcessInstance, wf: Workflow
) -> None:
    """Put the instance in incident when a step failed (or a task is still failed)."""
    failure = failure_of(wf)
    failed = wf.failed_tasks()
    if failure is None and (not failed or instance.status == INCIDENT):
        return  # no failure, or still stopped at the one already recorded
    error = failure or "stopped at a failed task"
    text = f"{', '.join(failed)}: {error}" if failed else error
    instance.status = INCIDENT
    instance.incident = text[:INCIDENT_TEXT_LIMIT]
    instance.incident_at = clock.now()
    audit.record(
        session,
        actor="system",
        action="instance.incident",
        report_id=report.id,
        instance_id=instance.id,
        data={"tasks": failed, "error": error[:INCIDENT_TEXT_LIMIT]},
    )


def retry_incident(session: Session, *, report: Report, instance: ProcessInstance) -> list[str]:
    """Run the failed tasks of an instance in incident again, then its engine steps, and
    settle; in the caller's transaction. On success the instance runs again (or completes) and
    its incident is cleared; on failure it stays in incident with the new error. Returns the
    BPMN ids of the tasks run again."""
    if instance.status != INCIDENT:
        raise Conflict("the instance is not in incident", field="instance_id")
    wf = load_workflow(session, instance)
    tasks = wf.retry()
    if failure_of(wf) is None and not wf.failed_tasks():
        instance.status, instance.incident, instance.incident_at = RUNNING, None, None
    settle(session, report=report, instance=instance, wf=wf)
    return tasks


def _announce_settled(
    session: Session, *, report: Report, instance: ProcessInstance, wf: Workflow
) -> None:
    uses_timers = wf.uses_timers
    timers = [m.isoformat() for m in wf.waiting_timers()] if uses_timers else []
    payload = {
        "instance_id": instance.id,
        "status": instance.status,
        "uses_timers": uses_timers,
        "timers": timers,
    }
    events.publish(session, events.Event(events.INSTANCE_SETTLED, report.id, payload))


def wake_timers(session: Session, *, instance_id: int) -> bool:
    """Fire the instance's BPMN timers that are due by `engine.clock`, run what follows and
    settle; in the caller's transaction. False when nothing fired (or it is not running)."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.status != RUNNING:
        return False
    report = session.get(Report, instance.report_id)
    if report is None:
        return False
    wf = load_workflow(session, instance)
    fired = wf.refresh_timers()
    settle(session, report=report, instance=instance, wf=wf)  # also re-plans any timer left
    if fired:
        audit.record(
            session,
            actor="system",
            action="instance.timer_fired",
            report_id=report.id,
            instance_id=instance.id,
        )
    return fired


def _start_sop(session: Session, *, report: Report, intake: ProcessInstance) -> None:
    if report.current_instansi_id is None:
        raise Conflict("the report has no target instansi to forward to", field="target_instansi")
    instansi = session.get(Instansi, report.current_instansi_id)
    if instansi is None:
        raise NotFound("unknown instansi", field="target_instansi")
    sop = definitions.sop_for(session, instansi)
    start_instance(
        session,
        report=report,
        definition=sop,
        parent=intake,
        instansi_id=instansi.id,
        data={
            "report_id": report.id,
            "tracking_id": report.tracking_id,
            "target_instansi": instansi.code,
            "classification": report.classification,
            "reopened": False,
        },
    )


def _report_to_parent(
    session: Session, *, report: Report, child: ProcessInstance, result: dict[str, Any]
) -> None:
    parent = session.get(ProcessInstance, child.parent_id)
    if parent is None or parent.status != RUNNING:
        return
    wf = load_workflow(session, parent)
    wf.deliver_message(INSTANSI_RESULT, {"result": result.get("result", "closed")})
    settle(session, report=report, instance=parent, wf=wf)


def _sync_tasks(
    session: Session, *, report: Report, instance: ProcessInstance, wf: Workflow
) -> None:
    """Make the open human-task rows of the instance match the engine's ready user tasks."""
    ready = {t.guid: t for t in wf.ready_user_tasks()}
    open_rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "open")
    ).all()
    now = clock.now()
    for row in open_rows:
        if row.task_guid not in ready:
            row.status = CANCELLED
            row.completed_at = now
            events.publish(
                session,
                events.Event(
                    events.TASK_CLOSED, report.id, {"task_id": row.id, "outcome": CANCELLED}
                ),
            )
    known = {row.task_guid for row in open_rows}
    meta = instance.definition.task_meta
    for guid, task in ready.items():
        if guid in known:
            continue
        role = role_for_lane(task.lane)
        national = role == "admin_nasional"
        row = HumanTask(
            instance_id=instance.id,
            report_id=report.id,
            task_guid=guid,
            bpmn_id=task.bpmn_id,
            name=task.name,
            lane=task.lane,
            role=role,
            milestone=(meta.get(task.bpmn_id) or {}).get("milestone"),
            instansi_id=None if national else instance.instansi_id,
            unit_id=report.current_unit_id if role in UNIT_ROLES else None,
            status="open",
            created_at=now,
        )
        session.add(row)
        session.flush()
        events.publish(
            session,
            events.Event(
                events.TASK_OPENED,
                report.id,
                {"task_id": row.id, "milestone": row.milestone, "instansi_id": row.instansi_id},
            ),
        )


def reroute(
    session: Session, *, report: Report, sop: ProcessInstance, target: Instansi
) -> Workflow:
    """Cancel the running SOP `sop` (no result goes to the intake) and make `target` the
    report's instansi; returns the intake's workflow, still waiting for an instansi result.

    The caller records the move on the timeline and then `settle`s the intake, which starts
    the target's SOP. Runs in the caller's transaction.
    """
    intake = session.get(ProcessInstance, sop.parent_id) if sop.parent_id else None
    intake_wf = load_workflow(session, intake) if intake is not None else None
    if (
        intake is None
        or intake_wf is None
        or sop.status not in LIVE
        or INSTANSI_RESULT not in intake_wf.waiting_messages()
    ):
        raise Conflict("the report is not with an instansi's SOP", field="instansi")
    wf = load_workflow(session, sop)
    wf.cancel()  # not settle(): a cancelled child must not report a result to the intake
    now = clock.now()
    sop.state_json, sop.status, sop.completed_at, sop.updated_at = (wf.dump(), CANCELLED, now, now)
    _announce_settled(session, report=report, instance=sop, wf=wf)  # drops its timer rows
    rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == sop.id, HumanTask.status == "open")
    ).all()
    for row in rows:
        row.status, row.completed_at = CANCELLED, now
        events.publish(
            session,
            events.Event(events.TASK_CLOSED, report.id, {"task_id": row.id, "outcome": CANCELLED}),
        )
    report.current_instansi_id, report.current_unit_id = target.id, None
    return intake_wf
