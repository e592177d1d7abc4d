"""One configured SpiffWorkflow serializer, and the split of state into spec and per-case parts."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.runtime.scripting import RESTRICTED_ENGINE

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION: str = SERIALIZER.VERSION
SPEC_KEYS = ("spec", "subprocess_specs")


def dump_state(workflow: BpmnWorkflow) -> tuple[str, str]:
    """Serialize a workflow without its spec; returns (state JSON, spec JSON)."""
    full = json.loads(SERIALIZER.serialize_json(workflow))
    spec = {key: full.pop(key) for key in SPEC_KEYS}
    return json.dumps(full, separators=(",", ":")), json.dumps(spec, separators=(",", ":"))


def load_state(state_json: str, spec_json: str) -> BpmnWorkflow:
    """Rebuild a workflow from its per-case state and the definition's stored spec.

    Old serializer versions are migrated by SpiffWorkflow while loading; the workflow runs its
    scripts and expressions on the restricted engine (`engine.runtime.scripting`).
    """
    body = state_json.strip()
    spec = spec_json.strip()
    if not (body.startswith("{") and spec.startswith("{") and spec.endswith("}")):
        raise ValueError("engine state is not a JSON object")
    inner = body[1:]
    joined = spec[:-1] + ("," + inner if inner.strip() != "}" else "}")
    workflow: BpmnWorkflow = SERIALIZER.deserialize_json(joined)
    # Subprocess workflows have no engine of their own: they use their top workflow's.
    workflow.script_engine = RESTRICTED_ENGINE
    return workflow


def spec_state(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))
