"""`lapor bpmn lint FILE...`: the deploy linter on files, for designers and CI (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def bpmn() -> None:
    """BPMN files: check them before deploying."""


@bpmn.command("lint")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
def lint(files: tuple[Path, ...], as_json: bool) -> None:
    """Check FILES against the BPMN contract (docs/bpmn-contract.md); exit 1 on any error."""
    import sla
    from engine.services import bpmn_lint

    sla.install()  # registers the SLA rule
    failed = False
    for path in files:
        report = bpmn_lint.lint(path.read_bytes(), filename=path.name)
        failed = failed or not report.ok
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "file": str(path),
                        "valid": report.ok,
                        "errors": [f.as_dict() for f in report.errors],
                        "warnings": [f.as_dict() for f in report.warnings],
                    }
                )
            )
            continue
        for kind, findings in (("error", report.errors), ("warning", report.warnings)):
            for finding in findings:
                line = f":{finding.line}" if finding.line else ""
                where = f" [{finding.element_id}]" if finding.element_id else ""
                click.echo(f"{path}{line}: {kind}{where}: {finding.message}")
        verdict = "ok" if report.ok else f"{len(report.errors)} error(s)"
        click.echo(f"{path}: {verdict}, {len(report.warnings)} warning(s)")
    if failed:
        raise SystemExit(1)
