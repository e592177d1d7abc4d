"""Move one instance's state from a version of its process to another version.

SpiffWorkflow 3.2's `bpmn.util.diff` aligns the task specs of two versions (by BPMN id, else by
their place in the graph) and moves a workflow onto the new specs, resetting its ready and
waiting tasks so they take the new definitions (a ready task keeps its id, so its human-task row
stays valid). This module adds the rules for what may move, and restores every moved state once
before handing it out. An instance can move when:

- every live task (ready, waiting, started or failed) has a task with the same BPMN id and of
  the same kind in the new version;
- every other task of its tree (history and prediction) finds its place in the new version;
- every subprocess it runs still exists.

Failed tasks stay failed: after a move to a corrected version, a retry runs them on the new
definitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.runtime.serializer import SERIALIZER, dump_state, load_state

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class MoveCheck:
    """Whether an instance can move, why not (`reasons`), and which of its live tasks take a
    changed definition (`changes`, for information)."""

    can_move: bool
    reasons: tuple[str, ...]
    changes: tuple[str, ...]


class CannotMove(ValueError):
    def __init__(self, check: MoveCheck) -> None:
        super().__init__("; ".join(check.reasons))
        self.check = check


def check(state_json: str, old_spec_json: str, new_spec_json: str) -> MoveCheck:
    """Whether the instance (`state_json`, of the version `old_spec_json`) can move to the
    version `new_spec_json`; nothing is changed."""
    return _attempt(state_json, old_spec_json, new_spec_json)[0]


def move(state_json: str, old_spec_json: str, new_spec_json: str) -> tuple[MoveCheck, str]:
    """The check and the instance's state moved to the new version; `CannotMove` (carrying
    the check) when it cannot move."""
    result, moved = _attempt(state_json, old_spec_json, new_spec_json)
    if moved is None:
        raise CannotMove(result)
    return result, moved


def _restore_specs(spec_json: str) -> tuple[Any, dict[str, Any]]:
    raw = json.loads(spec_json)
    spec = SERIALIZER.from_dict(raw["spec"])
    subs = {name: SERIALIZER.from_dict(sub) for name, sub in raw["subprocess_specs"].items()}
    return spec, subs


def _state_name(task: Any) -> str:
    return str(TaskState.get_name(task.state)).lower()


def _live_rules(part: Any, spec_diff: SpecDiff, diff: WorkflowDiff) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    changes: list[str] = []
    for task in part.get_tasks(state=LIVE, skip_subprocesses=True):
        name, state = task.task_spec.name, _state_name(task)
        target = diff.alignment.get(task)
        if target is None or target.name != name:
            reasons.append(f"task '{name}' ({state}) does not exist in the new version")
        elif type(target) is not type(task.task_spec):
            reasons.append(f"task '{name}' ({state}) is of another kind in the new version")
        elif spec_diff.changed.get(task.task_spec):
            changed = ", ".join(spec_diff.changed[task.task_spec])
            changes.append(f"task '{name}' ({state}) takes the new definition ({changed})")
    return reasons, changes


def _attempt(
    state_json: str, old_spec_json: str, new_spec_json: str
) -> tuple[MoveCheck, str | None]:
    workflow = load_state(state_json, old_spec_json)
    new_spec, new_subs = _restore_specs(new_spec_json)
    registry = SERIALIZER.registry
    reasons: list[str] = []
    changes: list[str] = []
    moves: list[tuple[Any, WorkflowDiff, Any]] = []
    parts = [(workflow, new_spec)]
    for sub in workflow.subprocesses.values():
        target = new_subs.get(sub.spec.name)
        if target is None:
            reasons.append(f"subprocess '{sub.spec.name}' does not exist in the new version")
        else:
            parts.append((sub, target))
    for part, target in parts:
        spec_diff = SpecDiff(registry, part.spec, target)
        diff = WorkflowDiff(part, spec_diff)
        found, changed = _live_rules(part, spec_diff, diff)
        reasons += found
        changes += changed
        moves.append((part, diff, target))
    if reasons:
        return MoveCheck(False, tuple(reasons), tuple(changes)), None

    for part, diff, target in moves:
        migrate_workflow(diff, part, target)
    workflow.subprocess_specs = new_subs
    for task in workflow.get_tasks():
        spec = task.workflow.spec.task_specs.get(task.task_spec.name)
        if spec is not task.task_spec:
            reasons.append(
                f"task '{task.task_spec.name}' ({_state_name(task)}) has no place in the new "
                "version"
            )
    if not reasons:
        moved, _spec = dump_state(workflow)
        try:
            load_state(moved, new_spec_json)
        except (SpiffWorkflowException, KeyError, TypeError, ValueError, AttributeError) as exc:
            reasons.append(f"the moved state does not restore: {exc}")
        else:
            return MoveCheck(True, (), tuple(changes)), moved
    return MoveCheck(False, tuple(reasons), tuple(changes)), None
