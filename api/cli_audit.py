"""`lapor audit ...`: verify the audit trail's hash chains and checkpoints, write checkpoints.

`verify` prints each problem (kind, report, event or checkpoint) and exits 0 when the trail is
clean, 1 when it is not (2: bad input). Progress goes to stderr; `--json` prints one document.
Both commands use the anchor file of `LAPOR_AUDIT_ANCHOR_PATH` (engine.services.audit_anchor).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from tqdm import tqdm

from engine.errors import DomainError


@click.group()
def audit() -> None:
    """The audit trail: hash chains per report, signed checkpoints."""


@audit.command("verify")
@click.option("--report", metavar="TRACKING_OR_ID", help="only this report's chain")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def verify(report: str | None, as_json: bool) -> None:
    """Check every event's hash, the links and seq numbers of each chain, and every
    checkpoint's signature; name each edited, inserted or deleted event."""
    from api.cli import _sessions, _settings  # here, so api.cli may import this module freely
    from engine.services import audit_verify

    settings, started = _settings(), time.perf_counter()
    with (
        _sessions(settings.DATABASE_URL) as factory,
        factory() as session,
        tqdm(unit="event", file=sys.stderr, disable=None, leave=False) as bar,
    ):

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = audit_verify.verify(
                session,
                key=settings.AUDIT_KEY.encode(),
                report=report,
                progress=progress,
                anchor=settings.AUDIT_ANCHOR_PATH,
            )
        except DomainError as exc:
            raise click.BadParameter(exc.message, param_hint="'--report'") from None
    seconds = time.perf_counter() - started
    if as_json:
        document = {
            "clean": result.clean,
            "chains": result.chains,
            "events": result.events,
            "checkpoints": result.checkpoints,
            "anchored": result.anchored,
            "problems": [p.as_dict() for p in result.problems],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for p in result.problems:
            click.echo(f"{p.kind}: {_where(p)}: {p.detail}")
        verdict = "clean" if result.clean else f"{len(result.problems)} problem(s)"
        click.echo(
            f"{verdict}: {result.events} events in {result.chains} chains, "
            f"{result.checkpoints} checkpoints, {result.anchored or 0} in the anchor "
            f"({settings.AUDIT_ANCHOR_PATH})"
        )
    rate = result.events / seconds if seconds > 0 else 0.0
    click.echo(f"verified in {seconds:.2f} s ({rate:.0f} events/s)", err=True)
    sys.exit(0 if result.clean else 1)


def _where(problem: Any) -> str:
    if problem.report_id:
        return f"report {problem.report_id} ({problem.tracking_id})"
    return "anchor" if problem.kind.startswith("anchor") else "no-report chain"


@audit.command("checkpoint")
@click.option("--all", "full", is_flag=True, help="every chain, not only those with new events")
@click.option(
    "--start-anchor",
    is_flag=True,
    help="start a new anchor file from the database's checkpoints (after losing the old one)",
)
def checkpoint(full: bool, start_anchor: bool) -> None:
    """Sign the head of every chain that advanced since its last checkpoint and copy the new
    checkpoints to the anchor file (the scheduler does this every few minutes)."""
    from api.cli import _sessions, _settings
    from engine.services import audit as audit_service
    from engine.services.audit_anchor import AnchorProblem

    settings = _settings()
    with _sessions(settings.DATABASE_URL) as factory, factory() as session:
        try:
            run = audit_service.checkpoint(
                session,
                key=settings.AUDIT_KEY.encode(),
                full=full,
                anchor=settings.AUDIT_ANCHOR_PATH,
                start_anchor=start_anchor,
            )
        except AnchorProblem as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"{run.written} checkpoint(s) written ({run.chains} chains looked at), "
        f"{run.anchored} copied to the anchor"
    )
