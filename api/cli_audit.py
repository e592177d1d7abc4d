"""`lapor audit ...`: verify the audit trail's hash chains and checkpoints, write checkpoints.

`verify` prints each problem (kind, report, event or checkpoint) and exits 0 when the trail is
clean, 1 when it is not (2: bad input). Progress goes to stderr; `--json` prints one document.
"""

from __future__ import annotations

import json
import sys
import time

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
                session, key=settings.AUDIT_KEY.encode(), report=report, progress=progress
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
            "problems": [p.as_dict() for p in result.problems],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for p in result.problems:
            chain = f"report {p.report_id} ({p.tracking_id})" if p.report_id else "no-report chain"
            click.echo(f"{p.kind}: {chain}: {p.detail}")
        verdict = "clean" if result.clean else f"{len(result.problems)} problem(s)"
        click.echo(
            f"{verdict}: {result.events} events in {result.chains} chains, "
            f"{result.checkpoints} checkpoints"
        )
    rate = result.events / seconds if seconds > 0 else 0.0
    click.echo(f"verified in {seconds:.2f} s ({rate:.0f} events/s)", err=True)
    sys.exit(0 if result.clean else 1)


@audit.command("checkpoint")
@click.option("--all", "full", is_flag=True, help="every chain, not only those with new events")
def checkpoint(full: bool) -> None:
    """Sign the head of every chain that advanced since its last checkpoint (the scheduler
    does this every few minutes)."""
    from api.cli import _sessions, _settings
    from engine.services import audit as audit_service

    settings = _settings()
    with _sessions(settings.DATABASE_URL) as factory, factory() as session:
        run = audit_service.checkpoint(session, key=settings.AUDIT_KEY.encode(), full=full)
    click.echo(f"{run.written} checkpoint(s) written ({run.chains} chains looked at)")
