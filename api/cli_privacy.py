"""`lapor privacy ...`: personal data past its retention (UU 27/2022).

`purge` removes what `LAPOR_RETENTION_*` no longer allows to keep (the scheduler also does it
daily); `--dry-run` only counts. Progress goes to stderr, the counts to stdout.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from api.config import Settings

if TYPE_CHECKING:
    from sla.retention import Policy


def policy_of(settings: Settings) -> Policy:
    """The retention policy the settings give."""
    from sla.retention import Policy

    return Policy(
        identity_days=settings.RETENTION_IDENTITY_DAYS,
        attachment_days=settings.RETENTION_ATTACHMENT_DAYS,
        outbox_days=settings.RETENTION_OUTBOX_DAYS,
        email_content_days=settings.RETENTION_EMAIL_CONTENT_DAYS,
        login_throttle_days=settings.RETENTION_LOGIN_THROTTLE_DAYS,
        token_days=settings.RETENTION_TOKEN_DAYS,
        attachment_dir=settings.ATTACHMENT_DIR,
        export_hours=settings.RETENTION_EXPORT_HOURS,
        export_dir=settings.EXPORT_DIR,
    )


@click.group()
def privacy() -> None:
    """Personal data: retention."""


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="only count what would be removed")
def purge(dry_run: bool) -> None:
    """Remove personal data past its retention: identities and attachments of reports closed
    long ago, delivered emails' addresses and texts, then the emails themselves, messages given
    up on, old login counters and spent tokens."""
    import sla
    from api.cli import _sessions, _settings  # here, so api.cli may import this module freely
    from sla import retention

    sla.install()  # an erased identity also cancels the emails still queued for it
    settings, started = _settings(), time.perf_counter()
    with (
        _sessions(settings.DATABASE_URL) as factory,
        tqdm(unit="item", file=sys.stderr, disable=None, leave=False) as bar,
    ):
        seen: dict[str, int] = {}

        def progress(name: str, done: int) -> None:
            bar.set_description(name, refresh=False)
            bar.update(done - seen.get(name, 0))
            seen[name] = done

        result = retention.purge(
            factory, policy=policy_of(settings), dry_run=dry_run, progress=progress
        )
    verb = "would remove" if dry_run else "removed"
    for name, count in result.counts.items():
        click.echo(f"{name}: {count} {verb}")
    if result.failed:
        click.echo(f"{result.failed} item(s) failed and were left for the next run (see the log)")
    click.echo(f"done in {time.perf_counter() - started:.2f} s", err=True)
    sys.exit(1 if result.failed else 0)
