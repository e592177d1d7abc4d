"""Write audit events (append-only) in the caller's transaction, chained by hash per report.

`record` only adds the event. When the session flushes it, a `before_flush` hook gives each new
event its place in its report's chain: it locks the chain (PostgreSQL: the report row, or an
advisory lock for the no-report chain; SQLite already serialises writers with BEGIN IMMEDIATE),
reads the chain's head and sets `seq`, `prev_hash` and `hash`. The lock is held to the end of
the transaction, so two transactions never take the same place; the unique (report_id, seq)
constraint is the backstop.

Checkpoints sign each advanced chain's head with HMAC-SHA256 under a key kept outside the
database (`LAPOR_AUDIT_KEY`), so that deleting a chain's newest events is caught as well. Each
checkpoint's mac also covers the one before it (by id): one chain of all checkpoints, so a
deleted checkpoint is named. And every checkpoint is copied to the anchor, a file outside the
database (engine.services.audit_anchor), so that deleting the newest events together with the
checkpoints that signed them is caught too.

Payloads refer to people by id only (`user_id`, the actor `user:<id>`): never a name, an
address, a phone number or text someone typed; the rows they point to hold that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from engine import clock
from engine.models import AuditEvent, Report
from engine.models.audit import GENESIS, AuditCheckpoint
from engine.services import audit_anchor

FORMAT = 1  # version of the canonical encoding, inside every hashed document
CHAINED = 2  # version of the chained checkpoint macs
NO_REPORT_LOCK = 0x4C415544  # pg_advisory_xact_lock key of the no-report chain ("LAUD")
CHECKPOINT_LOCK = 0x4C414350  # pg_advisory_xact_lock key of the checkpoints' chain ("LACP")
CHECKPOINT_OVERLAP = timedelta(minutes=30)  # longer than any transaction that writes events
CHECKPOINT_BATCH = 1000
ANCHOR_BATCH = 1000  # checkpoints per anchor line when copying ones the anchor lacks
CHECKPOINTS = AuditCheckpoint.__table__


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


# -- checkpoints: signed chain heads, themselves chained, copied to the anchor ---------------


def checkpoint_mac(
    key: bytes,
    *,
    report_id: int | None,
    seq: int,
    hash: str,
    at: datetime,
    prev: str | None = None,
) -> str:
    """A checkpoint's `mac`. Chained (given `prev`, the mac of the checkpoint before it by id,
    GENESIS for the first): 32 hex digits of HMAC over its own fields, then 32 over those and
    `prev`, so an altered checkpoint and a deleted predecessor are told apart. Without `prev`:
    the unchained mac of checkpoints written before chaining (still accepted when verifying)."""
    if prev is None:
        document = {
            "v": FORMAT,
            "report_id": report_id,
            "seq": seq,
            "hash": hash,
            "at": _moment(at),
        }
        return hmac.new(key, canonical(document), hashlib.sha256).hexdigest()
    own = _own_mac(key, report_id=report_id, seq=seq, hash=hash, at=at)
    return own + _link_mac(key, own, prev)


def _own_mac(key: bytes, *, report_id: int | None, seq: int, hash: str, at: datetime) -> str:
    document = {"v": CHAINED, "report_id": report_id, "seq": seq, "hash": hash, "at": _moment(at)}
    return hmac.new(key, canonical(document), hashlib.sha256).hexdigest()[:32]


def _link_mac(key: bytes, own: str, prev: str) -> str:
    document = {"v": CHAINED, "own": own, "prev": prev}
    return hmac.new(key, canonical(document), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Seal:
    """What a checkpoint's mac shows under the key: `signed`, its fields are the ones signed;
    `chained`, it is a chained mac (its link to the one before can be checked)."""

    signed: bool
    chained: bool


def seal_of(key: bytes, row: Any) -> Seal:
    """Check a checkpoint's (row or anchored head's) fields against its mac."""
    fields = {"report_id": row.report_id, "seq": row.seq, "hash": row.hash, "at": _at(row.at)}
    mac = row.mac or ""
    if _same(_own_mac(key, **fields), mac[:32]):
        return Seal(signed=True, chained=True)
    return Seal(signed=_same(checkpoint_mac(key, **fields), mac), chained=False)


def links(key: bytes, mac: str, prev: str) -> bool:
    """Whether a chained mac follows `prev` (the mac of the checkpoint before it)."""
    return _same(_link_mac(key, mac[:32], prev), mac[32:])


def moment_text(at: datetime) -> str:
    """A checkpoint's time as signed and anchored."""
    return _moment(at)


def _at(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class CheckpointRun:
    chains: int  # chains looked at
    written: int  # checkpoints written (chains that advanced)
    anchored: int = 0  # checkpoints copied to the anchor (written, and any it lacked)


def checkpoint(
    session: Session,
    *,
    key: bytes,
    full: bool = False,
    anchor: str | os.PathLike[str] | None = None,
    start_anchor: bool = False,
) -> CheckpointRun:
    """Sign the head of every chain that advanced since its last checkpoint, and copy the new
    checkpoints to the `anchor` file (engine.services.audit_anchor) when one is given.

    Only chains with events since the last run (less an overlap longer than any transaction)
    are looked at, unless `full`. One transaction per batch of chains; each batch's anchor line
    is written and synced after its commit, under the anchor's lock, and checkpoints the anchor
    lacks (a run stopped between the two) are copied first. A missing anchor is started only
    for a trail that never had one (its newest checkpoint is unchained) or with `start_anchor`;
    otherwise `AnchorProblem` says so, as it does for an anchor whose last line is not sound.
    """
    if anchor is None:
        return _checkpoint(session, key, full, None)
    path = Path(anchor)
    absent = not path.exists()
    if absent:  # refused before anything is created
        _may_start_anchor(session, key, path, start_anchor)
    with audit_anchor.writing(path, create=absent) as writer:
        if writer.empty:  # judged under the lock: no writer is between its commit and its line
            _may_start_anchor(session, key, path, start_anchor)
        anchored = _Anchored(writer, key)
        caught_up = anchored.catch_up(session)
        run = _checkpoint(session, key, full, anchored)
    return CheckpointRun(run.chains, run.written, run.anchored + caught_up)


class _Anchored:
    """The anchor being written by this run: its last checkpoint's id and mac."""

    def __init__(self, writer: audit_anchor.Writer, key: bytes) -> None:
        self.writer, self.key = writer, key
        tail = writer.tail(key)
        if tail is not None and tail.error is not None:
            raise audit_anchor.AnchorProblem(
                f"the last line of the audit anchor {writer.path} {tail.error}: "
                "run `lapor audit verify`"
            )
        self.last_id, self.prev = (tail.last, tail.mac) if tail is not None else (0, GENESIS)

    def append(self, heads: list[audit_anchor.Head]) -> int:
        if heads:
            self.writer.append(audit_anchor.encode(self.key, heads, self.prev))
            self.last_id, self.prev = heads[-1].id, heads[-1].mac
        return len(heads)

    def catch_up(self, session: Session) -> int:
        """Copy the checkpoints the database has past the anchor's last one, each checked."""
        done = 0
        while True:
            with session.begin():
                stmt = select(*CHECKPOINTS.c).where(CHECKPOINTS.c.id > self.last_id)
                rows = session.execute(stmt.order_by(CHECKPOINTS.c.id).limit(ANCHOR_BATCH)).all()
            if not rows:
                return done
            prev, heads = self.prev, []
            for row in rows:
                seal = seal_of(self.key, row)
                if not seal.signed or (seal.chained and not links(self.key, row.mac, prev)):
                    raise audit_anchor.AnchorProblem(
                        f"checkpoint {row.id} does not verify, so it is not anchored: "
                        "run `lapor audit verify`"
                    )
                heads.append(_head(row))
                prev = row.mac
            done += self.append(heads)


def _head(row: Any) -> audit_anchor.Head:
    return audit_anchor.Head(row.id, row.report_id, row.seq, row.hash, _moment(row.at), row.mac)


def _may_start_anchor(session: Session, key: bytes, path: Path, start: bool) -> None:
    with session.begin():
        stmt = select(*CHECKPOINTS.c).order_by(CHECKPOINTS.c.id.desc()).limit(1)
        newest = session.execute(stmt).first()
    if newest is None or start:
        return
    seal = seal_of(key, newest)
    if seal.signed and not seal.chained:
        return  # a trail from before anchors: anchor what it has
    raise audit_anchor.AnchorProblem(
        f"the audit anchor {path} is missing, but the database holds checkpoints that were "
        "anchored: restore the file (or point LAPOR_AUDIT_ANCHOR_PATH at it) and run "
        "`lapor audit verify`; `lapor audit checkpoint --start-anchor` starts a new anchor "
        "from the database as it is now"
    )


def _checkpoint(
    session: Session, key: bytes, full: bool, anchored: _Anchored | None
) -> CheckpointRun:
    with session.begin():
        since = None if full else _since(session)
        stmt = select(AuditEvent.report_id).distinct()
        if since is not None:
            stmt = stmt.where(AuditEvent.at >= since)
        candidates = sorted(session.scalars(stmt), key=lambda r: (r is None, r or 0))
    written = copied = 0
    for start in range(0, len(candidates), CHECKPOINT_BATCH):
        with session.begin():
            after = (anchored.last_id, anchored.prev) if anchored is not None else None
            heads = _sign(session, key, candidates[start : start + CHECKPOINT_BATCH], after)
        written += len(heads)
        if anchored is not None:
            copied += anchored.append(heads)
    return CheckpointRun(chains=len(candidates), written=written, anchored=copied)


def _since(session: Session) -> datetime | None:
    last = session.scalar(select(func.max(AuditCheckpoint.at)))
    if last is None:
        return None
    return min(last, clock.now()) - CHECKPOINT_OVERLAP  # a clock set back still finds new events


def _lock_checkpoints(session: Session) -> None:
    """One checkpoint writer at a time extends the checkpoints' chain (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHECKPOINT_LOCK})


def _sign(
    session: Session, key: bytes, report_ids: list[int | None], after: tuple[int, str] | None
) -> list[audit_anchor.Head]:
    """Add a checkpoint for each chain that advanced, chained after the newest checkpoint in
    the database, or with an anchor after its last one, `after` (id, mac): a checkpoint the
    database has past that one was written meanwhile by a run without this anchor, so this run
    stops (AnchorProblem; the next run copies it first). Returns them as anchored, by id."""
    _lock_checkpoints(session)
    stmt = select(AuditCheckpoint.id, AuditCheckpoint.mac).order_by(AuditCheckpoint.id.desc())
    newest = session.execute(stmt.limit(1)).first()
    prev = newest.mac if newest is not None else GENESIS
    if after is not None:
        if newest is not None and newest.id > after[0]:
            raise audit_anchor.AnchorProblem(
                f"checkpoint {newest.id} was written meanwhile without the anchor (does every "
                "process use the same LAPOR_AUDIT_ANCHOR_PATH?): the next run copies it"
            )
        prev = after[1]  # newest checkpoints deleted: the anchor's chain goes on (verify names it)
    heads, signed = _heads(session, report_ids), _signed(session, report_ids)
    now, added = clock.now(), []
    for report_id, (seq, head) in heads.items():
        if signed.get(report_id, 0) >= seq:
            continue
        mac = checkpoint_mac(key, report_id=report_id, seq=seq, hash=head, at=now, prev=prev)
        row = AuditCheckpoint(report_id=report_id, seq=seq, hash=head, at=now, mac=mac)
        session.add(row)
        added.append(row)
        prev = mac
    session.flush()
    if any(a.id >= b.id for a, b in zip(added, added[1:], strict=False)):
        raise RuntimeError("checkpoint ids were not given in insertion order: chain broken")
    return [_head(row) for row in added]


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
