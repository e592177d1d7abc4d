"""`lapor bpmn lint`: the deploy linter on files, with lines and element ids, exit status 1."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from api.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_files_pass_and_a_broken_one_fails_with_its_line(tmp_path: Path) -> None:
    text = (ROOT / "bpmn/national/sop-default.bpmn").read_text(encoding="utf-8")
    broken = tmp_path / "broken.bpmn"
    broken.write_text(text.replace('value="follow-up"', 'value="lunch"', 1), encoding="utf-8")
    runner = CliRunner()

    good = runner.invoke(main, ["bpmn", "lint", str(ROOT / "bpmn/national/sop-default.bpmn")])
    assert good.exit_code == 0, good.output
    assert "ok, 0 warning(s)" in good.output

    bad = runner.invoke(main, ["bpmn", "lint", str(broken)])
    assert bad.exit_code == 1
    line = next(i for i, row in enumerate(text.splitlines(), 1) if 'id="follow_up"' in row)
    assert (
        f"broken.bpmn:{line}: error [follow_up]: user task 'follow_up' has unknown milestone"
        in (bad.output)
    )

    as_json = runner.invoke(main, ["bpmn", "lint", "--json", str(broken)])
    (result,) = [json.loads(row) for row in as_json.output.splitlines()]
    assert result["valid"] is False and result["errors"][0]["element_id"] == "follow_up"


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["bpmn", "lint", str(tmp_path / "nope.bpmn")])
    assert result.exit_code == 2 and "does not exist" in result.output
