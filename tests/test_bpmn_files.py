"""The shipped BPMN files open cleanly in bpmn-js / Camunda Modeler's model layer (bpmn-moddle,
from npm) with every element drawn, and compile in the engine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from engine.runtime import compile_bpmn

ROOT = Path(__file__).resolve().parent.parent
BPMN_FILES = sorted((ROOT / "bpmn").rglob("*.bpmn"))
CHECKER = ROOT / "tests" / "js" / "check_bpmn.mjs"


def moddle_check(*paths: Path) -> list[dict]:
    out = subprocess.run(
        ["node", str(CHECKER), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_every_shipped_diagram_imports_without_warnings_and_is_fully_drawn() -> None:
    assert len(BPMN_FILES) >= 2
    for result in moddle_check(*BPMN_FILES):
        assert "error" not in result, result
        assert result["warnings"] == [], result
        assert result["undrawn"] == [], result


def test_checker_reports_unknown_elements_and_missing_shapes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text(
        '<?xml version="1.0"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:bogus/></bpmn:process>'
        "</bpmn:definitions>"
    )
    (result,) = moddle_check(bad)
    assert "unknown type <bpmn:Bogus>" in result["warnings"][0]
    assert result["undrawn"] == ["s"]


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_every_shipped_diagram_compiles(path: Path) -> None:
    compiled = compile_bpmn(path.read_bytes(), filename=path.name)
    assert compiled.tasks, "an SOP without user tasks drives nothing"
    assert all(meta.milestone for meta in compiled.tasks.values())
