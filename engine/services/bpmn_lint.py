"""The deploy linter: everything wrong with a BPMN file, before anything is deployed.

`lint` runs three layers and collects their findings with the element id and line:
1. safe parsing and structure (the BPMN 2.0 XSD and SpiffWorkflow's parser, via `compile_bpmn`),
   plus the restricted script checker on every script, condition and timer expression;
2. the contract of docs/bpmn-contract.md on the XML: supported element types, every user task in a
   lane that maps to a role, with a known milestone and a valid JSON Schema form, every flow node
   reachable from a start event;
3. rules other packages register on the compiled task metadata (the SLA package's "every user
   task has an SLA" check, see `register_task_rule`).

Vendor extensions we do not use (Camunda, Zeebe, Signavio...) are warnings, never errors: files
exported by Camunda Modeler and bpmn-js carry them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from engine.models.users import LANE_ROLES
from engine.runtime import BpmnError, CompiledDefinition, compile_bpmn
from engine.runtime.safe_xml import UnsafeXml, parse_untrusted_xml
from engine.status import MILESTONES

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
OWN_NAMESPACES = frozenset(
    {
        BPMN,
        SPIFF,
        "http://www.omg.org/spec/BPMN/20100524/DI",
        "http://www.omg.org/spec/DD/20100524/DC",
        "http://www.omg.org/spec/DD/20100524/DI",
        "http://www.w3.org/2001/XMLSchema-instance",
        "http://www.w3.org/XML/1998/namespace",
    }
)
SUPPORTED_NODES = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
        "transaction",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
    }
)
# BPMN flow nodes the engine cannot run, each with the reason a designer can act on.
UNSUPPORTED_NODES = {
    "complexGateway": "complex gateways are not supported; use an inclusive gateway",
    "adHocSubProcess": "ad-hoc subprocesses are not supported",
    "businessRuleTask": "business rule (DMN) tasks are not supported; use a script task",
    "choreographyTask": "choreographies are not executable",
    "subChoreography": "choreographies are not executable",
    "callChoreography": "choreographies are not executable",
    "implicitThrowEvent": "implicit throw events are not executable",
}
CONTAINERS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
HUMAN_TASKS = frozenset({"userTask", "manualTask"})


@dataclass(frozen=True)
class Finding:
    """One problem (or warning) in a BPMN file, pointing at the element and line when known."""

    message: str
    element_id: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        place = [f"element {self.element_id}"] if self.element_id else []
        place += [f"line {self.line}"] if self.line else []
        return f"{self.message} ({', '.join(place)})" if place else self.message


@dataclass
class LintReport:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    compiled: CompiledDefinition | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.compiled is not None


TaskRule = Callable[[dict[str, dict[str, Any]]], list[Finding]]
_TASK_RULES: list[TaskRule] = []


def register_task_rule(rule: TaskRule) -> None:
    """Add a rule run on the compiled task metadata of every linted file (idempotent)."""
    if rule not in _TASK_RULES:
        _TASK_RULES.append(rule)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _ns(element: etree._Element) -> str | None:
    return etree.QName(element).namespace if isinstance(element.tag, str) else None


def _finding(message: str, element: etree._Element) -> Finding:
    return Finding(message, element.get("id"), element.sourceline)


def _executable_process(root: etree._Element) -> etree._Element | None:
    processes = [p for p in root.findall(f"{{{BPMN}}}process")]
    executable = [p for p in processes if p.get("isExecutable", "false").lower() == "true"]
    return executable[0] if len(executable) == 1 else None


def _flow_nodes(container: etree._Element) -> Iterator[etree._Element]:
    for child in container:
        if _ns(child) == BPMN and (
            _local(child) in SUPPORTED_NODES or _local(child) in UNSUPPORTED_NODES
        ):
            yield child


def _containers(process: etree._Element) -> Iterator[etree._Element]:
    yield process
    for element in process.iter(f"{{{BPMN}}}*"):
        if element is not process and _local(element) in CONTAINERS:
            yield element


def _unsupported(process: etree._Element) -> list[Finding]:
    return [
        _finding(f"{_local(node)} '{node.get('id')}': {UNSUPPORTED_NODES[_local(node)]}", node)
        for container in _containers(process)
        for node in _flow_nodes(container)
        if _local(node) in UNSUPPORTED_NODES
    ]


def _unreachable(process: etree._Element) -> list[Finding]:
    """Flow nodes no path of sequence flows reaches from a start event of their container."""
    findings: list[Finding] = []
    for container in _containers(process):
        nodes = {node.get("id"): node for node in _flow_nodes(container)}
        targets: dict[str | None, list[str | None]] = {}
        for flow in container.findall(f"{{{BPMN}}}sequenceFlow"):
            targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
        attached: dict[str | None, list[str | None]] = {}
        for node in nodes.values():
            if _local(node) == "boundaryEvent":
                attached.setdefault(node.get("attachedToRef"), []).append(node.get("id"))
        todo = [
            node_id
            for node_id, node in nodes.items()
            if _local(node) == "startEvent"
            or (_local(node) == "subProcess" and node.get("triggeredByEvent") == "true")
        ]
        seen: set[str | None] = set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo += targets.get(current, []) + attached.get(current, [])
        findings += [
            _finding(f"{_local(node)} '{node_id}' cannot be reached from a start event", node)
            for node_id, node in nodes.items()
            if node_id not in seen
        ]
    return findings


def _lanes_by_node(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN}}}lane"):
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    return lanes


def _spiff_children(task: etree._Element, name: str) -> list[etree._Element]:
    extensions = task.find(f"{{{BPMN}}}extensionElements")
    return [] if extensions is None else extensions.findall(f".//{{{SPIFF}}}{name}")


def _human_task_rules(process: etree._Element) -> list[Finding]:
    findings: list[Finding] = []
    lanes = _lanes_by_node(process)
    known = ", ".join(f"'{name.title()}'" for name in LANE_ROLES)
    for container in _containers(process):
        for task in _flow_nodes(container):
            if _local(task) not in HUMAN_TASKS:
                continue
            task_id = task.get("id") or ""
            lane = lanes.get(task_id)
            if lane is None:
                findings.append(_finding(f"user task '{task_id}' is in no lane", task))
            elif lane.strip().lower() not in LANE_ROLES:
                findings.append(
                    _finding(
                        f"user task '{task_id}' is in lane '{lane}', which maps to no role "
                        f"(known lanes: {known})",
                        task,
                    )
                )
            milestones = [
                p.get("value")
                for p in _spiff_children(task, "property")
                if p.get("name") == "milestone"
            ]
            if not milestones:
                findings.append(_finding(f"user task '{task_id}' has no milestone property", task))
            elif milestones[0] not in MILESTONES:
                findings.append(
                    _finding(
                        f"user task '{task_id}' has unknown milestone '{milestones[0]}' "
                        f"(known: {', '.join(MILESTONES)})",
                        task,
                    )
                )
            if not any((f.text or "").strip() for f in _spiff_children(task, "formSchema")):
                findings.append(
                    _finding(f"user task '{task_id}' has no spiffworkflow:formSchema", task)
                )
    return findings


def _form_rules(compiled: CompiledDefinition) -> list[Finding]:
    findings = []
    for bpmn_id, meta in compiled.tasks.items():
        form = meta.form_schema
        if form is None:
            continue
        try:
            Draft202012Validator.check_schema(form)
        except SchemaError as exc:
            findings.append(
                Finding(
                    f"formSchema of '{bpmn_id}' is not a valid JSON Schema: {exc.message}", bpmn_id
                )
            )
            continue
        if not isinstance(form, dict) or form.get("type") != "object":
            findings.append(
                Finding(f'formSchema of \'{bpmn_id}\' must have "type": "object"', bpmn_id)
            )
    return findings


def _service_task_warnings(process: etree._Element) -> list[Finding]:
    return [
        _finding(
            f"service task '{node.get('id')}': LAPOR Flow has no service connectors, so every "
            "case stops here in an incident; use a script task",
            node,
        )
        for container in _containers(process)
        for node in _flow_nodes(container)
        if _local(node) == "serviceTask"
    ]


def _vendor_warnings(root: etree._Element) -> list[Finding]:
    """Extension elements and attributes in namespaces the engine does not read."""
    warnings: list[Finding] = []
    for extensions in root.iter(f"{{{BPMN}}}extensionElements"):
        owner = extensions.getparent()
        for child in extensions:
            namespace = _ns(child)
            if namespace is not None and namespace not in OWN_NAMESPACES:
                warnings.append(
                    Finding(
                        f"extension element {child.prefix or namespace}:{_local(child)} "
                        "is not supported and is ignored",
                        owner.get("id") if owner is not None else None,
                        child.sourceline,
                    )
                )
    foreign: dict[str, int] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in element.attrib:
            namespace = etree.QName(name).namespace
            if namespace is not None and namespace not in OWN_NAMESPACES:
                foreign[namespace] = foreign.get(namespace, 0) + 1
    warnings += [
        Finding(f"{count} attribute(s) in namespace {namespace} are not supported and are ignored")
        for namespace, count in sorted(foreign.items())
    ]
    return warnings


def _script_finding(root: etree._Element, problem: Any) -> Finding:
    """A refused script or expression, placed at its element's line in the file."""
    found = root.xpath("//*[@id=$id]", id=problem.element_id)
    line = found[0].sourceline if found else None
    where = f" (line {problem.line} of the expression)" if problem.line and problem.line > 1 else ""
    return Finding(f"{problem.message}{where}", problem.element_id, line)


def lint(xml: bytes, *, filename: str = "upload.bpmn") -> LintReport:
    """All errors and warnings of one BPMN file; `report.compiled` is set when it compiles."""
    report = LintReport()
    try:
        root = parse_untrusted_xml(xml).getroot()
    except UnsafeXml as exc:
        report.errors.append(Finding(str(exc)))
        return report
    process = _executable_process(root)
    if process is not None:
        report.errors += _unsupported(process)
        report.errors += _human_task_rules(process)
        report.errors += _unreachable(process)
    report.warnings += _vendor_warnings(root)
    if process is not None:
        report.warnings += _service_task_warnings(process)
    try:
        compiled = compile_bpmn(xml, filename=filename)
    except BpmnError as exc:
        report.errors.insert(0, Finding(exc.message, exc.element_id, exc.line))
        return report
    report.errors += [_script_finding(root, problem) for problem in compiled.script_problems]
    report.errors += _form_rules(compiled)
    task_meta = compiled.task_meta_json()
    for rule in _TASK_RULES:
        report.errors += rule(task_meta)
    report.compiled = compiled
    return report


def format_findings(findings: Iterable[Finding]) -> str:
    return "; ".join(str(f) for f in findings)
