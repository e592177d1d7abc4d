"""Write audit events (append-only) in the caller's transaction, chained by hash per report.

`record` only adds the event. When the session flushes it, a `before_flush` hook gives each new
event its place in its report's chain: it locks the chain (PostgreSQL: the report row, or an
advisory lock for the no-report chain; SQLite already serialises writers with BEGIN IMMEDIATE),
reads the chain's head and sets `seq`, `prev_hash` and `hash`. The lock is held to the end of
the transaction, so two transactions never take the same place; the unique (report_id, seq)
constraint is the backstop.

Checkpoints sign each advanced chain's head with HMAC-SHA256 under a key kept outside the
database (`LAPOR_AUDIT_KEY`), so that deleting a chain's newest events is caught as well.

Payloads refer to people by id only (`user_id`, the actor `user:<id>`): never a name, an
address, a phone number or text someone typed; the rows they point to hold that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from engine import clock
from engine.models import AuditEvent, Report
from engine.models.audit import GENESIS, AuditCheckpoint

FORMAT = 1  # version of the canonical encoding, inside every hashed document
NO_REPORT_LOCK = 0x4C415544  # pg_advisory_xact_lock key of the no-report chain ("LAUD")
CHECKPOINT_OVERLAP = timedelta(minutes=30)  # longer than any transaction that writes events
CHECKPOINT_BATCH = 1000


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    report_id: int | None = None,
    instance_id: int | None = None,
    task_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=clock.now(),
        actor=actor,
        action=action,
        report_id=report_id,
        instance_id=instance_id,
        task_id=task_id,
        data=data,
    )
    session.add(event)
    return event


def user_actor(user_id: int) -> str:
    return f"user:{user_id}"


# -- the canonical encoding and the hashes ---------------------------------------------------


def _plain(value: Any) -> Any:
    """The value as JSON storage gives it back: string keys, lists, and integral floats as
    integers (PostgreSQL's jsonb prints 1e16 as 10000000000000000)."""
    kind = type(value)  # exact types first: this runs for every value of every event hashed
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    return value


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(document: Mapping[str, Any]) -> bytes:
    """Stable JSON: sorted keys, no spaces, UTF-8 (`document` as JSON storage returns it)."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    report_id: int | None,
    instance_id: int | None,
    task_id: int | None,
    data: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over an event's fields and its chain's previous hash."""
    document = {
        "v": FORMAT,
        "seq": seq,
        "at": _moment(at),
        "actor": actor,
        "action": action,
        "report_id": report_id,
        "instance_id": instance_id,
        "task_id": task_id,
        "data": _plain(data),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(document)).hexdigest()


def hash_of(row: Any) -> str:
    """The hash an event (model or row with the same attributes) should carry."""
    return event_hash(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        report_id=row.report_id,
        instance_id=row.instance_id,
        task_id=row.task_id,
        data=row.data,
        prev_hash=row.prev_hash,
    )


def checkpoint_mac(key: bytes, *, report_id: int | None, seq: int, hash: str, at: datetime) -> str:
    document = {"v": FORMAT, "report_id": report_id, "seq": seq, "hash": hash, "at": _moment(at)}
    return hmac.new(key, canonical(document), hashlib.sha256).hexdigest()


# -- appending: the flush hook ---------------------------------------------------------------


def _lock_chain(session: Session, report_id: int | None) -> None:
    """Serialise appends to one chain until the transaction ends (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already lets one writer in at a time)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if report_id is None:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NO_REPORT_LOCK})
    else:  # the lock an UPDATE of the report takes (most actions update it anyway), which
        # leaves other rows' foreign-key checks on the report unblocked
        stmt = select(Report.id).where(Report.id == report_id).with_for_update(key_share=True)
        session.execute(stmt)


def _chain(report_id: int | None) -> Any:
    if report_id is None:
        return AuditEvent.report_id.is_(None)
    return AuditEvent.report_id == report_id


def chain_head(session: Session, report_id: int | None) -> tuple[int, str]:
    """(seq, hash) of the chain's newest event; (0, GENESIS) when it has none."""
    stmt = select(AuditEvent.seq, AuditEvent.hash).where(_chain(report_id))
    row = session.execute(stmt.order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row is not None else (0, GENESIS)


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, _context: Any, _instances: Any) -> None:
    for old in (*session.dirty, *session.deleted):
        if isinstance(old, AuditEvent) and (old in session.deleted or session.is_modified(old)):
            raise RuntimeError(f"audit event {old.id} is append-only: it cannot change")
    pending = [o for o in session.new if isinstance(o, AuditEvent) and o.hash is None]
    if not pending:
        return
    chains: dict[int | None, list[AuditEvent]] = {}
    for new in pending:  # session.new keeps the order in which events were added
        chains.setdefault(new.report_id, []).append(new)
    # locks always in the same order (reports by id, then the no-report chain): no deadlock
    for report_id in sorted(chains, key=lambda r: (r is None, r or 0)):
        _lock_chain(session, report_id)
        seq, prev = chain_head(session, report_id)
        for new in chains[report_id]:
            seq += 1
            new.seq, new.prev_hash = seq, prev
            new.hash = prev = hash_of(new)


# -- checkpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointRun:
    chains: int  # chains looked at
    written: int  # checkpoints written (chains that advanced)


def checkpoint(session: Session, *, key: bytes, full: bool = False) -> CheckpointRun:
    """Sign the head of every chain that advanced since its last checkpoint.

    Only chains with events since the last run (less an overlap longer than any transaction)
    are looked at, unless `full`. One transaction per batch of chains.
    """
    with session.begin():
        since = None if full else _since(session)
        stmt = select(AuditEvent.report_id).distinct()
        if since is not None:
            stmt = stmt.where(AuditEvent.at >= since)
        candidates = sorted(session.scalars(stmt), key=lambda r: (r is None, r or 0))
    written = 0
    for start in range(0, len(candidates), CHECKPOINT_BATCH):
        with session.begin():
            written += _sign(session, key, candidates[start : start + CHECKPOINT_BATCH])
    return CheckpointRun(chains=len(candidates), written=written)


def _since(session: Session) -> datetime | None:
    last = session.scalar(select(func.max(AuditCheckpoint.at)))
    if last is None:
        return None
    return min(last, clock.now()) - CHECKPOINT_OVERLAP  # a clock set back still finds new events


def _sign(session: Session, key: bytes, report_ids: list[int | None]) -> int:
    heads, signed = _heads(session, report_ids), _signed(session, report_ids)
    now, written = clock.now(), 0
    for report_id, (seq, head) in heads.items():
        if signed.get(report_id, 0) >= seq:
            continue
        mac = checkpoint_mac(key, report_id=report_id, seq=seq, hash=head, at=now)
        session.add(AuditCheckpoint(report_id=report_id, seq=seq, hash=head, at=now, mac=mac))
        written += 1
    return written


def _heads(session: Session, report_ids: list[int | None]) -> dict[int | None, tuple[int, str]]:
    """(seq, hash) of each chain's newest event."""
    found: dict[int | None, tuple[int, str]] = {}
    if None in report_ids:
        found[None] = chain_head(session, None)
    numbered = [r for r in report_ids if r is not None]
    if numbered:
        newest = (
            select(AuditEvent.report_id, func.max(AuditEvent.seq).label("seq"))
            .where(AuditEvent.report_id.in_(numbered))
            .group_by(AuditEvent.report_id)
            .subquery()
        )
        stmt = select(AuditEvent.report_id, AuditEvent.seq, AuditEvent.hash).join(
            newest,
            (AuditEvent.report_id == newest.c.report_id) & (AuditEvent.seq == newest.c.seq),
        )
        found.update({row.report_id: (row.seq, row.hash) for row in session.execute(stmt)})
    return found


def _signed(session: Session, report_ids: list[int | None]) -> dict[int | None, int]:
    """The seq of each chain's newest checkpoint."""
    newest = func.max(AuditCheckpoint.seq)
    found: dict[int | None, int] = {}
    if None in report_ids:
        stmt = select(newest).where(AuditCheckpoint.report_id.is_(None))
        found[None] = session.scalar(stmt) or 0
    numbered = [r for r in report_ids if r is not None]
    if numbered:
        stmt2 = (
            select(AuditCheckpoint.report_id, newest)
            .where(AuditCheckpoint.report_id.in_(numbered))
            .group_by(AuditCheckpoint.report_id)
        )
        found.update(dict(session.execute(stmt2).tuples().all()))
    return found
