"""One process instance in memory: start or load it, advance it, and dump its per-case state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from uuid import UUID

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.runtime import timers
from engine.runtime.scripting import RESTRICTED_ENGINE
from engine.runtime.serializer import SERIALIZER, SERIALIZER_VERSION, dump_state, load_state


class TaskNotReady(RuntimeError):
    """The task is not (or no longer) waiting for a person."""


class EngineFailure(RuntimeError):
    """The BPMN engine failed while running the process (a script or condition error)."""


@dataclass(frozen=True)
class ReadyTask:
    guid: str
    bpmn_id: str
    name: str
    lane: str | None


MAX_TIMER_ROUNDS = 100  # refresh rounds per wake: a late cycle timer catches up this far
_SPECS: dict[str, tuple[Any, Any]] = {}
_SPECS_LIMIT = 512


def _specs(checksum: str, spec_json: str) -> tuple[Any, Any]:
    """Restore (spec, subprocess_specs) once per deployed definition, keyed by its checksum."""
    found = _SPECS.get(checksum)
    if found is None:
        raw = json.loads(spec_json)
        spec = SERIALIZER.from_dict(raw["spec"])
        subs = {name: SERIALIZER.from_dict(sub) for name, sub in raw["subprocess_specs"].items()}
        if len(_SPECS) >= _SPECS_LIMIT:
            _SPECS.pop(next(iter(_SPECS)))
        found = _SPECS[checksum] = (spec, subs)
    return found


def clear_caches() -> None:
    _SPECS.clear()


class Workflow:
    """A thin, typed face on a SpiffWorkflow `BpmnWorkflow`."""

    serializer_version = SERIALIZER_VERSION

    def __init__(self, wf: BpmnWorkflow) -> None:
        self._wf = wf

    @classmethod
    def start(cls, checksum: str, spec_json: str, data: dict[str, Any]) -> Workflow:
        """A new instance of the deployed definition (`checksum`, `spec_json`), run to its
        first wait state."""
        self = cls.new(checksum, spec_json, data)
        self.advance()
        return self

    @classmethod
    def new(cls, checksum: str, spec_json: str, data: dict[str, Any]) -> Self:
        """A new instance of the deployed definition, not yet run (`advance` runs it)."""
        spec, subs = _specs(checksum, spec_json)
        wf = BpmnWorkflow(spec, subs, script_engine=RESTRICTED_ENGINE)
        wf.data.update(data)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return cls(wf)

    @classmethod
    def load(cls, state_json: str, spec_json: str) -> Workflow:
        return cls(load_state(state_json, spec_json))

    def dump(self) -> str:
        state, _spec = dump_state(self._wf)
        return state

    def _run(self) -> None:
        try:
            self._wf.do_engine_steps()
        except SpiffWorkflowException as exc:
            raise EngineFailure(str(exc)) from exc

    def advance(self) -> None:
        """Run the engine's own steps (scripts, gateways, events) to the next wait state."""
        self._run()

    def failed_tasks(self) -> list[str]:
        """The BPMN ids of the tasks a script or condition error stopped (state ERROR)."""
        return [t.task_spec.name for t in self._wf.get_tasks(state=TaskState.ERROR)]

    def retry(self) -> list[str]:
        """Run the failed tasks again and then the engine steps; returns their BPMN ids.

        An engine task is reset as SpiffWorkflow's `reset_from_task_id` does (its data copied
        again from its parent, its branch predicted afresh from the current spec); a user task
        whose completion failed runs again with the form data it was completed with.
        """
        failed = list(self._wf.get_tasks(state=TaskState.ERROR))
        try:
            for task in failed:
                if task.task_spec.manual:
                    task._set_state(TaskState.READY)
                    task.run()
                else:
                    self._wf.reset_from_task_id(task.id)
        except SpiffWorkflowException as exc:
            raise EngineFailure(str(exc)) from exc
        self._run()
        return [t.task_spec.name for t in failed]

    def ready_user_tasks(self) -> list[ReadyTask]:
        return [
            ReadyTask(
                str(t.id),
                t.task_spec.name,
                t.task_spec.bpmn_name or t.task_spec.name,
                t.task_spec.lane,
            )
            for t in self._wf.get_tasks(state=TaskState.READY, manual=True)
        ]

    def waiting_messages(self) -> list[str]:
        return [e.name for e in self._wf.waiting_events() if "Message" in e.event_type]

    def complete_task(self, guid: str, data: dict[str, Any]) -> None:
        try:
            task = self._wf.get_task_from_id(UUID(guid))
        except (ValueError, TaskNotFoundException):
            raise TaskNotReady(guid) from None
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(guid)
        task.set_data(**data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise EngineFailure(str(exc)) from exc
        self._run()

    def deliver_message(self, name: str, payload: dict[str, Any]) -> None:
        if name not in self.waiting_messages():
            raise TaskNotReady(f"not waiting for message {name}")
        try:
            self._wf.send_event(BpmnEvent(MessageEventDefinition(name), payload))
        except SpiffWorkflowException as exc:
            raise EngineFailure(str(exc)) from exc
        self._run()

    @property
    def completed(self) -> bool:
        return bool(self._wf.completed)

    @property
    def data(self) -> dict[str, Any]:
        """The process variables: the workflow data, or the latest task's data while running."""
        if self._wf.completed:
            return dict(self._wf.data)
        last = self._wf.last_task
        return dict(last.data) if last is not None else dict(self._wf.data)

    def cancel(self) -> None:
        self._wf.cancel()

    @property
    def uses_timers(self) -> bool:
        """Whether the definition has any timer event (else it never waits for one)."""
        specs = [self._wf.spec, *self._wf.subprocess_specs.values()]
        return any(
            timers.is_timer(getattr(ts, "event_definition", None))
            for spec in specs
            for ts in spec.task_specs.values()
        )

    def waiting_timers(self) -> list[datetime]:
        """The due moments (UTC) of the timers the instance waits for, earliest first.

        A timer already due when it was reached is ready but not yet run (the library checks
        timers only at the end of its engine steps); it is listed with its past due moment, so
        whoever wakes instances wakes this one at once.
        """
        moments = [
            timers.due_moment(event.value)
            for event in self._wf.waiting_events()
            if event.event_type in timers.TIMER_EVENT_TYPES
        ]
        moments += [
            timers.due_moment(task._get_internal_data("event_value"))
            for task in self._wf.get_tasks(state=TaskState.READY)
            if timers.is_timer(getattr(task.task_spec, "event_definition", None))
        ]
        return sorted(m for m in moments if m is not None)

    def _timer_marks(self) -> tuple[object, ...]:
        waiting = sorted((e.name, e.event_type, repr(e.value)) for e in self._wf.waiting_events())
        ready = sorted(str(t.id) for t in self._wf.get_tasks(state=TaskState.READY))
        return tuple(waiting), tuple(ready)

    def refresh_timers(self) -> bool:
        """Fire the timers due by `engine.clock` and run what follows them, until nothing more
        changes; True when anything fired."""
        fired = False
        for _ in range(MAX_TIMER_ROUNDS):
            before = self._timer_marks()
            try:
                self._wf.refresh_timers()
            except SpiffWorkflowException as exc:
                raise EngineFailure(str(exc)) from exc
            engine_ready = any(
                not t.task_spec.manual for t in self._wf.get_tasks(state=TaskState.READY)
            )
            if self._timer_marks() == before and not engine_ready:
                break
            fired = True
            self._run()
        return fired
