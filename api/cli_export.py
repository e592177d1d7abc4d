"""`lapor export`: export reports to a CSV or XLSX file at once, with a progress bar.

The same filters, columns and redaction as `POST /api/v1/exports` (engine.services.exports):
by default with a national admin's scope (an anonim pelapor's identity is never exported),
or as a staff user with `--as USERNAME` (their scope, their redaction, their time zone).
Progress goes to stderr, the summary to stdout; a refused filter names the option.
"""

from __future__ import annotations

import sys
import time
from datetime import date

import click
from tqdm import tqdm

FORMATS = ("csv", "xlsx")
OPTION = {"instansi": "--instansi", "from": "--since", "to": "--until", "status": "--status"}


@click.command("export")
@click.option("--instansi", help="instansi code (default: every instansi in scope)")
@click.option("--subtree", is_flag=True, help="also the instansi below --instansi")
@click.option(
    "--since", "--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="filed on or after"
)
@click.option(
    "--until", "--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="filed on or before"
)
@click.option("--status", "statuses", multiple=True, help="a status (repeat, or comma-separated)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, writable=True), required=True, help="the file"
)
@click.option("--as", "username", help="export as this staff user (default: national scope)")
def export(
    instansi: str | None,
    subtree: bool,
    first: date | None,
    last: date | None,
    statuses: tuple[str, ...],
    fmt: str,
    out: str,
    username: str | None,
) -> None:
    """Export reports (filed between --since and --until, both included, in --status) to
    --out."""
    from sqlalchemy import select

    from api.cli import _sessions, _settings  # here, so api.cli may import this module freely
    from engine.errors import DomainError
    from engine.models import User
    from engine.services import exports, officer_notes
    from engine.services.auth import Membership, Principal

    filters = {
        "instansi": instansi,
        "subtree": subtree,
        "from": first.date().isoformat() if first else None,
        "to": last.date().isoformat() if last else None,
        "status": [s.strip() for group in statuses for s in group.split(",") if s.strip()],
    }
    started = time.perf_counter()
    with _sessions(_settings().DATABASE_URL) as factory:
        actor, zone = "cli", officer_notes.HOME_ZONE
        principal = Principal(0, "lapor-cli", (Membership("admin_nasional", None, None),))
        if username:
            with factory() as session:
                user_id = session.scalar(select(User.id).where(User.username == username))
                found = exports.requester_principal(session, user_id) if user_id else None
            if found is None:
                raise click.BadParameter("no active staff user of that name", param_hint="--as")
            principal, actor = found, found.actor
            with factory() as session:
                zone = officer_notes.time_zone(session, principal=principal)
        with tqdm(unit="row", file=sys.stderr, disable=None, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                rows = exports.export_to(
                    factory,
                    principal=principal,
                    filters=filters,
                    fmt=fmt,
                    out=out,
                    time_zone=zone,
                    progress=progress,
                    actor=actor,
                )
            except DomainError as exc:
                raise click.BadParameter(
                    exc.message, param_hint=OPTION.get(exc.field or "", exc.field)
                ) from exc
    seconds = time.perf_counter() - started
    click.echo(f"{rows} rows written to {out} in {seconds:.1f} s ({rows / seconds:.0f} rows/s)")
