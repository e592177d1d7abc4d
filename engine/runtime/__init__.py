"""The BPMN runtime: the only package that imports SpiffWorkflow.

`compile_bpmn` turns uploaded XML into a `CompiledDefinition` (spec stored once, task metadata);
`Workflow` starts, loads, advances and dumps one instance's state.
"""

from engine.runtime.compiler import BpmnError, CompiledDefinition, TaskMeta, compile_bpmn
from engine.runtime.workflow import ReadyTask, TaskNotReady, Workflow

__all__ = [
    "BpmnError",
    "CompiledDefinition",
    "ReadyTask",
    "TaskMeta",
    "TaskNotReady",
    "Workflow",
    "compile_bpmn",
]
