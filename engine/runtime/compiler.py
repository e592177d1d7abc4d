"""Compile BPMN XML into what the engine stores: the process id, spec JSON and task metadata."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.runtime.safe_xml import UnsafeXml, parse_untrusted_xml
from engine.runtime.scripting import ScriptProblem, check_spec
from engine.runtime.serializer import dump_state

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


class BpmnError(ValueError):
    """A BPMN file that cannot be deployed; `element_id` and `line` point at the cause."""

    def __init__(
        self, message: str, *, element_id: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id
        self.line = line


@dataclass(frozen=True)
class TaskMeta:
    bpmn_id: str
    name: str
    lane: str | None
    milestone: str | None
    form_schema: dict[str, Any] | None
    properties: dict[str, str]


@dataclass(frozen=True)
class CompiledDefinition:
    process_id: str
    checksum: str
    spec_json: str
    tasks: dict[str, TaskMeta]
    script_problems: tuple[ScriptProblem, ...] = ()  # what the restricted evaluator refuses

    def task_meta_json(self) -> dict[str, Any]:
        return {key: asdict(meta) for key, meta in self.tasks.items()}


def checksum_of(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def _executable_process_id(tree: etree._ElementTree, wanted: str | None) -> str:
    processes = tree.getroot().findall(f"{{{BPMN_NS}}}process")
    ids = [p.get("id") for p in processes if p.get("isExecutable", "false").lower() == "true"]
    if wanted is not None:
        if wanted not in ids:
            raise BpmnError(f"no executable process with id '{wanted}'", element_id=wanted)
        return wanted
    if len(ids) != 1:
        raise BpmnError(
            f'expected exactly one executable process (isExecutable="true"), found {len(ids)}'
        )
    return str(ids[0])


def _milestone_of(task_spec: Any) -> str | None:
    extensions = getattr(task_spec, "extensions", None) or {}
    return (extensions.get("properties") or {}).get("milestone")


def _task_meta(task_spec: Any) -> TaskMeta:
    extensions = getattr(task_spec, "extensions", {}) or {}
    properties = dict(extensions.get("properties", {}) or {})
    form_text = extensions.get("formSchema")
    form: dict[str, Any] | None = None
    if form_text and form_text.strip():
        try:
            form = json.loads(form_text)
        except json.JSONDecodeError as exc:
            raise BpmnError(
                f"formSchema of task '{task_spec.name}' is not valid JSON: {exc.msg}",
                element_id=task_spec.name,
            ) from exc
    return TaskMeta(
        bpmn_id=task_spec.name,
        name=task_spec.bpmn_name or task_spec.name,
        lane=task_spec.lane,
        milestone=properties.get("milestone"),
        form_schema=form,
        properties=properties,
    )


def parse_specs(tree: etree._ElementTree, process_id: str, filename: str) -> tuple[Any, Any]:
    parser = SpiffBpmnParser(validator=BpmnValidator())
    try:
        parser.add_bpmn_xml(tree, filename=filename)
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise BpmnError(
            str(exc),
            element_id=getattr(exc, "id", None) or None,
            line=getattr(exc, "line_number", None) or None,
        ) from exc
    except SpiffWorkflowException as exc:
        raise BpmnError(str(exc)) from exc


def compile_bpmn(
    xml: bytes, *, process_id: str | None = None, filename: str = "upload.bpmn"
) -> CompiledDefinition:
    """Parse, validate and extract everything the engine stores for one deployment."""
    try:
        tree = parse_untrusted_xml(xml)
    except UnsafeXml as exc:
        raise BpmnError(str(exc)) from exc
    pid = _executable_process_id(tree, process_id)
    spec, subprocess_specs = parse_specs(tree, pid, filename)
    tasks = {
        name: _task_meta(ts)
        for process in (spec, *subprocess_specs.values())
        for name, ts in process.task_specs.items()
        if ts.manual or _milestone_of(ts)
    }
    _state, spec_json = dump_state(BpmnWorkflow(spec, subprocess_specs))
    problems = tuple(check_spec(spec, subprocess_specs))
    return CompiledDefinition(pid, checksum_of(xml), spec_json, tasks, problems)
