"""`lapor sla ...`: ask the working-day calendar when a deadline ends, and why.

Output is in Indonesian with English in parentheses; bad input exits with status 2 and names
the option at fault.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from engine.errors import DomainError
from sla.calendar import WEEKDAYS_EN, WEEKDAYS_ID

OPTIONS = {  # service field -> command-line option
    "from": "--from",
    "working_days": "--working-days",
    "working_hours": "--working-hours",
    "instansi": "--instansi",
}


@click.group()
def sla() -> None:
    """Working-day calendar and deadlines."""


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            "not an ISO 8601 moment, e.g. 2026-03-13T10:00+07:00", param_hint="'--from'"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            "needs a UTC offset, e.g. 2026-03-13T10:00+07:00", param_hint="'--from'"
        )
    return moment


def _day(day: date) -> str:
    return f"{WEEKDAYS_ID[day.weekday()]} ({WEEKDAYS_EN[day.weekday()]})"


@sla.command("due")
@click.option(
    "--from", "start", required=True, metavar="MOMENT", help="e.g. 2026-03-13T10:00+07:00"
)
@click.option("--working-days", type=click.IntRange(0, 365), help="working days to count")
@click.option("--working-hours", type=click.IntRange(0, 365), help="office hours to count")
@click.option("--instansi", required=True, metavar="CODE", help="instansi code, e.g. 34.04")
def due(start: str, working_days: int | None, working_hours: int | None, instansi: str) -> None:
    """When a deadline counted from --from ends for an instansi, and which days it skips."""
    from api.cli import _sessions, _settings  # here, so api.cli may import this module freely
    from sla import calendar_service

    moment = _moment(start)
    with _sessions(_settings().DATABASE_URL) as factory, factory() as session:
        try:
            found, result = calendar_service.explain_due(
                session,
                start=moment,
                working_days=working_days,
                working_hours=working_hours,
                instansi_code=instansi,
            )
        except DomainError as exc:
            option = OPTIONS.get(exc.field or "", exc.field or "input")
            raise click.BadParameter(exc.message, param_hint=f"'{option}'") from None
    amount = (
        f"{working_days} hari kerja ({working_days} working days)"
        if working_days is not None
        else f"{working_hours} jam kerja ({working_hours} office hours)"
    )
    local, utc = result.local_due, result.due_at.astimezone(UTC)
    click.echo(f"Instansi: {found.code} {found.name} ({found.timezone})")
    click.echo(f"Mulai (from): {moment.isoformat()}, {amount}")
    click.echo(f"Hari mulai (start day): {result.start_day.isoformat()} {_day(result.start_day)}")
    click.echo(f"Tenggat (due): {local.isoformat()} {_day(local.date())}")
    click.echo(f"Tenggat UTC (due, UTC): {utc.isoformat()}")
    click.echo(f"Hari dilewati (skipped days): {len(result.skipped)}")
    for skipped in result.skipped:
        click.echo(f"  {skipped.day.isoformat()}: {skipped.reason} ({skipped.reason_en})")
