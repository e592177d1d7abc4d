"""Retention per data class (UU 27/2022): what is kept only as long as it is needed.

`purge` removes, for each class, what is older than its `Policy` allows:

| class | what goes | counted from |
| --- | --- | --- |
| identity | the pelapor's identity on a closed report (engine.services.privacy.erase) | closing |
| attachments | the files of a closed report, rows and bytes | closing |
| email_content | a delivered email's address and text (the row stays: delivery logs) | delivery |
| outbox | delivered emails and webhooks (they hold addresses and texts) | delivery |
| outbox_dead | messages given up on (dead) | the last attempt |
| login_throttle | failed-login counters no longer locking anyone | their window's start |
| auth_tokens | API bearer tokens expired or revoked | expiry or revocation |
| password_reset_tokens | reset tokens expired, used or replaced | the earliest of those |
| exports | report export files (the job row stays, `expired`) | the export's end |

Work goes in batches, each batch its own transaction; an item that fails (identity, attachment)
is rolled back alone, logged and left for the next run, and the rest go on. The scheduler runs
it daily and `lapor privacy purge` by hand; `dry_run` only counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.dml import Delete, Update

from engine import clock, status
from engine.models import Attachment, AuthToken, ExportJob, Report
from engine.models.users import LoginThrottle, PasswordResetToken
from engine.services import audit, exports, privacy
from sla import outbox
from sla.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 500
EMPTIED = {"recipient": "", "body": ""}  # an email's content once its retention is over
CLASSES = (
    "identity",
    "attachments",
    "email_content",
    "outbox",
    "outbox_dead",
    "login_throttle",
    "auth_tokens",
    "password_reset_tokens",
)
EXPORTS = "exports"  # a class only when the policy names the export folder
Progress = Callable[[str, int], None]  # (class, done so far in it)


@dataclass(frozen=True)
class Policy:
    """Days each class is kept (`api.config.Settings.RETENTION_*`), and the attachment folder
    (None: attachment rows go, the files are left to whoever owns the folder)."""

    identity_days: int = 730
    attachment_days: int = 730
    outbox_days: int = 90
    email_content_days: int = 7
    login_throttle_days: int = 1
    token_days: int = 30
    attachment_dir: str | None = None
    export_hours: int = 24  # hours, not days: export files are copies made for the moment
    export_dir: str | None = None


@dataclass
class Purged:
    """What one run removed (or, in a dry run, would remove), per class; `failed` items stay."""

    counts: dict[str, int]
    failed: int = 0


def purge(
    factory: sessionmaker,
    now: datetime | None = None,
    *,
    policy: Policy,
    dry_run: bool = False,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> Purged:
    """Remove every class's data older than `policy` allows at `now` (default: the clock)."""
    now = now or clock.now()
    result = Purged({name: 0 for name in CLASSES})
    if policy.export_dir:
        result.counts[EXPORTS] = 0

    def step(name: str, done: int) -> None:
        result.counts[name] += done
        if progress is not None:
            progress(name, result.counts[name])

    closed_before = _closed_before
    identity = closed_before(now - timedelta(days=policy.identity_days)) & or_(
        *(getattr(Report, f).is_not(None) for f in (*privacy.IDENTITY_FIELDS, *privacy.GESI_FIELDS))
    )
    attachments = Attachment.report_id.in_(
        select(Report.id).where(closed_before(now - timedelta(days=policy.attachment_days)))
    )
    sent = (OutboxMessage.status == outbox.SENT) & (
        OutboxMessage.sent_at < now - timedelta(days=policy.outbox_days)
    )
    # a delivered email keeps its id, kind, status and times; its address and text go early
    # (they may carry a pelapor's secret tracking link or a password reset link)
    mailed = (
        (OutboxMessage.channel == "email")
        & (OutboxMessage.status == outbox.SENT)
        & (OutboxMessage.sent_at < now - timedelta(days=policy.email_content_days))
        & ((OutboxMessage.recipient != "") | (OutboxMessage.body != ""))
    )
    # a dead message's last attempt is its next_attempt_at (sla.outbox sets it when giving up)
    dead = (OutboxMessage.status == outbox.DEAD) & (
        OutboxMessage.next_attempt_at < now - timedelta(days=policy.outbox_days)
    )
    throttle_cutoff = now - timedelta(days=policy.login_throttle_days)
    throttled = (LoginThrottle.window_started_at < throttle_cutoff) & or_(
        LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now
    )
    token_cutoff = now - timedelta(days=policy.token_days)
    tokens = or_(AuthToken.expires_at < token_cutoff, AuthToken.revoked_at < token_cutoff)
    resets = or_(
        PasswordResetToken.expires_at < token_cutoff,
        PasswordResetToken.used_at < token_cutoff,
        PasswordResetToken.revoked_at < token_cutoff,
    )
    export_cutoff = now - timedelta(hours=policy.export_hours)
    expiring = [(EXPORTS, ExportJob.id, exports.expired_clause(export_cutoff))]
    if dry_run:
        for name, column, where in (
            ("identity", Report.id, identity),
            ("attachments", Attachment.id, attachments),
            ("email_content", OutboxMessage.id, mailed),
            ("outbox", OutboxMessage.id, sent),
            ("outbox_dead", OutboxMessage.id, dead),
            ("login_throttle", LoginThrottle.id, throttled),
            ("auth_tokens", AuthToken.id, tokens),
            ("password_reset_tokens", PasswordResetToken.id, resets),
            *(expiring if policy.export_dir else []),
        ):
            with factory() as session:
                step(name, session.scalar(select(func.count(column)).where(where)) or 0)
        return result

    store = Path(policy.attachment_dir) if policy.attachment_dir else None
    _each(factory, Report.id, identity, batch, result, step, "identity", _erase_identity)
    _each(
        factory,
        Attachment.id,
        attachments,
        batch,
        result,
        step,
        "attachments",
        lambda s, i: _remove_attachment(s, i, store),
    )
    _update_rows(factory, OutboxMessage.id, mailed, EMPTIED, batch, step, "email_content")
    for name, column, where in (
        ("outbox", OutboxMessage.id, sent),
        ("outbox_dead", OutboxMessage.id, dead),
        ("login_throttle", LoginThrottle.id, throttled),
        ("auth_tokens", AuthToken.id, tokens),
        ("password_reset_tokens", PasswordResetToken.id, resets),
    ):
        _delete_rows(factory, column, where, batch, step, name)
    if policy.export_dir:
        step(EXPORTS, exports.purge(factory, before=export_cutoff, directory=policy.export_dir))
    return result


def _closed_before(moment: datetime) -> ColumnElement[bool]:
    return and_(
        Report.status.in_(sorted(status.FINAL)),
        Report.closed_at.is_not(None),
        Report.closed_at < moment,
    )


def _each(
    factory: sessionmaker,
    column: InstrumentedAttribute[int],
    where: ColumnElement[bool],
    batch: int,
    result: Purged,
    step: Progress,
    name: str,
    handle: Callable[[Session, int], bool],
) -> None:
    """Call `handle` on each matching id, in batches (one transaction each); a failing item is
    rolled back alone (a savepoint), logged and skipped."""
    last = 0
    while True:
        with factory() as session, session.begin():
            ids = list(
                session.scalars(
                    select(column).where(where, column > last).order_by(column).limit(batch)
                )
            )
            if not ids:
                return
            done = 0
            for item in ids:
                try:
                    with session.begin_nested():
                        done += handle(session, item)
                except Exception:  # one bad item must not stop the rest
                    log.exception("retention: %s %s could not be purged", name, item)
                    result.failed += 1
            last = ids[-1]
        step(name, done)


def _erase_identity(session: Session, report_id: int) -> bool:
    report = session.get(Report, report_id, with_for_update=True)
    if report is None:
        return False
    erased = privacy.erase(session, report, actor="system", action="report.identity_expired")
    return bool(erased)


def _remove_attachment(session: Session, attachment_id: int, store: Path | None) -> bool:
    row = session.get(Attachment, attachment_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor="system",
        action="attachment.expired",
        report_id=row.report_id,
        data={"attachment_id": row.id},
    )
    if store is not None:
        # deleted before the batch commits: should the commit fail, the row is left without
        # its file (the pelapor gets 404) rather than a file outliving its retention
        (store / row.stored_name).unlink(missing_ok=True)
    return True


def _delete_rows(
    factory: sessionmaker,
    column: InstrumentedAttribute[int],
    where: ColumnElement[bool],
    batch: int,
    step: Progress,
    name: str,
) -> None:
    """Delete matching rows by id, `batch` at a time, each batch its own transaction."""
    _by_batches(factory, column, where, delete(column.class_), batch, step, name)


def _update_rows(
    factory: sessionmaker,
    column: InstrumentedAttribute[int],
    where: ColumnElement[bool],
    values: dict[str, Any],
    batch: int,
    step: Progress,
    name: str,
) -> None:
    """Set `values` on matching rows by id, `batch` at a time, each batch its own transaction
    (`where` must no longer match a row once it has the values)."""
    _by_batches(factory, column, where, update(column.class_).values(**values), batch, step, name)


def _by_batches(
    factory: sessionmaker,
    column: InstrumentedAttribute[int],
    where: ColumnElement[bool],
    statement: Delete | Update,
    batch: int,
    step: Progress,
    name: str,
) -> None:
    """Run `statement` on the rows matching `where`, by id, `batch` at a time, each batch its
    own transaction, until none match."""
    while True:
        with factory() as session, session.begin():
            ids = list(session.scalars(select(column).where(where).order_by(column).limit(batch)))
            if ids:
                session.execute(
                    statement.where(column.in_(ids)).execution_options(synchronize_session=False)
                )
        if not ids:
            return
        step(name, len(ids))
