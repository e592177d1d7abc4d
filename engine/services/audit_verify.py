"""Verify the audit trail: every chain's hashes and links, and every checkpoint's signature.

A chain should be one path of links from GENESIS: each event's `prev_hash` is the hash of the
event before it, its own hash matches its fields, and `seq` counts up by one. What is found
instead is named, event by event:

- `edited`: the event follows its predecessor but its fields no longer match its hash (also a
  row written with a wrong hash in the predecessor's place);
- `inserted`: the event is off the chain's path (it links to an event another one already
  follows, or it neither hashes nor links to any event): written outside `audit.record`;
- `deleted`: the path breaks (an event links to a hash no event has, or seq jumps): events
  before the named one are missing;
- `truncated`: a checkpoint signed a longer chain than there is: the newest events are gone;
- `rewritten`: the event at a checkpoint's seq has another hash than the one signed: the chain
  up to there was recomputed after changes;
- `bad_signature`: a checkpoint's HMAC does not match (forged or altered checkpoint).

With the anchor file (engine.services.audit_anchor), each chain's newest anchored checkpoint is
checked the same way, so events deleted together with their checkpoints are still `truncated`;
engine.services.audit_verify_checkpoints names deleted, altered and unanchored checkpoints, a
missing anchor and unsound anchor lines (a whole-trail run also walks the checkpoints' chain).

Appending a well-formed event after a chain's newest checkpoint cannot be told from a real
one by anyone without the key; checkpoints bound that window. Events are read in short
transactions per batch of reports (checkpoints first, then events), so verifying never holds
SQLite's write lock for long and sees no false truncation while events are being appended.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import AuditEvent, Report
from engine.models.audit import GENESIS, AuditCheckpoint
from engine.services import audit_anchor
from engine.services.audit import hash_of, moment_text, seal_of
from engine.services.audit_verify_checkpoints import Anchor, check_chain

BATCH = 500  # reports per read

KINDS = (
    "edited",
    "inserted",
    "deleted",
    "truncated",
    "rewritten",
    "bad_signature",
    "checkpoint_deleted",
    "checkpoint_altered",
    "unanchored",
    "anchor_missing",
    "anchor_line",
)
Heads = Mapping[int | None, audit_anchor.Head]  # each chain's newest anchored checkpoint


@dataclass(frozen=True)
class Problem:
    kind: str  # one of KINDS
    report_id: int | None  # None: the no-report chain
    tracking_id: str | None
    event_id: int | None  # the event at fault, or the first one after missing events
    checkpoint_id: int | None
    seq: int | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verification:
    chains: int = 0
    events: int = 0
    checkpoints: int = 0
    anchored: int | None = None  # checkpoints read from the anchor; None: no anchor given
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


Progress = Callable[[int, int], None]  # (events checked so far, events in all)


def verify(
    session: Session,
    *,
    key: bytes,
    report: str | None = None,
    progress: Progress | None = None,
    anchor: str | os.PathLike[str] | None = None,
) -> Verification:
    """Walk the chains (all, or one report's by tracking id or id) and their checkpoints, and
    with `anchor` (the anchor file's path) check the checkpoints against it as well."""
    result = Verification()
    found: tuple[int, str] | None = None
    if report is not None:
        with session.begin():
            row = _report(session, report)
            found = (row.id, row.tracking_id)
    copy = None
    if anchor is not None:
        only = found[0] if found else None
        copy = Anchor.load(session, Path(anchor), key, report_id=only, only=found is not None)
        result.anchored = copy.checkpoints
        _add(session, result, copy.problems)
    newest: Heads = copy.newest if copy is not None else {}
    if found is not None:
        with session.begin():
            total = _count(session, found[0])
        _verify_batch(session, key, [found], result, newest)
        _tell(progress, result, total)
    else:
        _verify_all(session, key, result, newest, progress)
    if copy is not None:
        _add(session, result, copy.compare(session))
    if found is None:
        ceiling = copy.ceiling if copy is not None else None
        named = copy.deleted if copy is not None else set()
        _add(session, result, check_chain(session, key, ceiling=ceiling, named=named))
    return result


def _verify_all(
    session: Session, key: bytes, result: Verification, newest: Heads, progress: Progress | None
) -> None:
    with session.begin():
        total = _count(session, None, everything=True)
    _verify_batch(session, key, [(None, None)], result, newest)
    _tell(progress, result, total)
    last = 0
    while True:
        with session.begin():
            stmt = select(Report.id, Report.tracking_id).where(Report.id > last)
            reports = list(session.execute(stmt.order_by(Report.id).limit(BATCH)).tuples())
        if not reports:
            return
        _verify_batch(session, key, reports, result, newest)
        _tell(progress, result, total)
        last = reports[-1][0]


def _add(session: Session, result: Verification, found: list[dict[str, Any]]) -> None:
    """Problems about checkpoints, with their reports' tracking ids."""
    ids = {p["report_id"] for p in found if p["report_id"] is not None}
    tracking: dict[int, str] = {}
    if ids:
        with session.begin():
            stmt = select(Report.id, Report.tracking_id).where(Report.id.in_(ids))
            tracking = dict(session.execute(stmt).tuples().all())
    result.problems.extend(
        Problem(tracking_id=tracking.get(p["report_id"] or 0), **p) for p in found
    )


def _tell(progress: Progress | None, result: Verification, total: int) -> None:
    if progress is not None:
        progress(result.events, max(total, result.events))


def _report(session: Session, report: str) -> Report:
    text = report.strip()
    stmt = select(Report).where(Report.tracking_id == text)
    if text.isdigit() and len(text) <= 9:
        stmt = select(Report).where((Report.id == int(text)) | (Report.tracking_id == text))
    found = session.scalars(stmt).first()
    if found is None:
        raise NotFound("no report with this tracking id or id", field="report")
    return found


def _count(session: Session, report_id: int | None, *, everything: bool = False) -> int:
    stmt = select(func.count()).select_from(AuditEvent)
    if not everything:
        stmt = stmt.where(AuditEvent.report_id == report_id)
    return session.scalar(stmt) or 0


def _verify_batch(
    session: Session,
    key: bytes,
    reports: Sequence[tuple[int | None, str | None]],
    result: Verification,
    newest: Heads,
) -> None:
    """One transaction: the checkpoints, then the events, of `reports` (or the no-report chain)."""
    tracking = dict(reports)
    ids = [r for r, _ in reports if r is not None]
    with session.begin():
        if ids:
            where_c = AuditCheckpoint.report_id.between(ids[0], ids[-1])
            where_e = AuditEvent.report_id.between(ids[0], ids[-1])
        else:
            where_c, where_e = AuditCheckpoint.report_id.is_(None), AuditEvent.report_id.is_(None)
        checkpoints: dict[int | None, list[Any]] = {}
        stmt_c = select(*AuditCheckpoint.__table__.c).where(where_c)
        for c in session.execute(stmt_c.order_by(AuditCheckpoint.id)):
            checkpoints.setdefault(c.report_id, []).append(c)
        chains: dict[int | None, list[Any]] = {}
        stmt_e = select(*AuditEvent.__table__.c).where(where_e)
        for row in session.execute(stmt_e.order_by(AuditEvent.report_id, AuditEvent.seq)):
            chains.setdefault(row.report_id, []).append(row)
    anchored = {r: newest[r] for r in tracking if r in newest}
    every = set(chains) | set(checkpoints) | set(anchored)
    for report_id in sorted(every, key=lambda r: (r is None, r or 0)):
        events = chains.get(report_id, [])
        found, path = _check_chain(events)
        found += _check_checkpoints(key, path, checkpoints.get(report_id, []))
        found += _check_anchored(path, checkpoints.get(report_id, []), anchored.get(report_id))
        label = tracking.get(report_id)
        result.problems.extend(Problem(tracking_id=label, report_id=report_id, **p) for p in found)
        result.chains += 1 if events else 0
        result.events += len(events)
        result.checkpoints += len(checkpoints.get(report_id, []))


def _problem(
    kind: str,
    detail: str,
    *,
    event_id: int | None = None,
    seq: int | None = None,
    checkpoint_id: int | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "detail": detail,
        "event_id": event_id,
        "seq": seq,
        "checkpoint_id": checkpoint_id,
    }


def _check_chain(events: list[Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Follow the links from GENESIS; name what does not fit (see the module's docstring)."""
    problems: list[dict[str, Any]] = []
    intact = {e.id: hash_of(e) == e.hash for e in events}
    known = {e.hash for e in events} | {GENESIS}
    taken = {e.seq for e in events}
    children: dict[str, list[Any]] = {}
    for e in events:
        children.setdefault(e.prev_hash, []).append(e)
    tail: dict[int, int] = {}  # length of the longest path onwards (links to higher seqs only)
    for e in reversed(events):
        onward = [tail[c.id] for c in children.get(e.hash, []) if c.seq > e.seq and c.id in tail]
        tail[e.id] = 1 + max(onward, default=0)

    path: list[Any] = []
    on_path: set[int] = set()
    link, after = GENESIS, 0
    while True:
        follow = [c for c in children.get(link, []) if c.seq > after and c.id not in on_path]
        if follow:
            nxt = max(follow, key=lambda c: (tail[c.id], -c.seq))
            why = "re-linked over the gap"
        else:  # the path ends, or breaks: it resumes at the lowest dangling event
            dangling = [
                e
                for e in events
                if e.id not in on_path
                and intact[e.id]
                and e.seq > after
                and e.prev_hash not in known
            ]
            if not dangling:
                break
            nxt = min(dangling, key=lambda e: e.seq)
            why = "it follows a hash no event has"
        # seqs skipped and held by no (off-path) event: deleted
        skipped = nxt.seq - after - 1
        gone = skipped > 0 and skipped > sum(1 for n in taken if after < n < nxt.seq)
        if not follow or gone:
            missing = _seqs(after + 1, nxt.seq - 1) if gone else "events"
            problems.append(
                _problem(
                    "deleted",
                    f"{missing} missing before event {nxt.id} ({why})",
                    event_id=nxt.id,
                    seq=nxt.seq,
                )
            )
        path.append(nxt)
        on_path.add(nxt.id)
        link, after = nxt.hash, nxt.seq
    for e in path:
        if not intact[e.id]:
            problems.append(
                _problem(
                    "edited", f"event {e.id} does not match its hash", event_id=e.id, seq=e.seq
                )
            )
    for e in events:
        if e.id not in on_path:
            why = "matches no hash and follows no event" if not intact[e.id] else "is off the chain"
            problems.append(_problem("inserted", f"event {e.id} {why}", event_id=e.id, seq=e.seq))
    return problems, path


def _check_checkpoints(key: bytes, path: list[Any], checkpoints: list[Any]) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    for c in checkpoints:
        if not seal_of(key, c).signed:
            problems.append(
                _problem(
                    "bad_signature",
                    f"checkpoint {c.id} (seq {c.seq}) is not signed with the audit key",
                    checkpoint_id=c.id,
                    seq=c.seq,
                )
            )
        else:
            problems += _against_chain(path, c.id, c.seq, c.hash, "")
    return problems


def _check_anchored(
    path: list[Any], checkpoints: list[Any], head: audit_anchor.Head | None
) -> list[dict[str, Any]]:
    """The chain's newest anchored checkpoint, unless the database holds it unchanged (then
    `_check_checkpoints` did)."""
    if head is None:
        return []
    same = [
        c
        for c in checkpoints
        if c.id == head.id
        and (c.seq, c.hash, moment_text(c.at), c.mac) == (head.seq, head.hash, head.at, head.mac)
    ]
    return [] if same else _against_chain(path, head.id, head.seq, head.hash, "anchored ")


def _against_chain(
    path: list[Any], checkpoint_id: int, seq: int, hash: str, source: str
) -> list[dict[str, Any]]:
    """A signed head (seq, hash) against the chain's path: cut short, or recomputed."""
    by_seq = {e.seq: e for e in path}
    head = max(by_seq, default=0)
    if seq > head:
        return [
            _problem(
                "truncated",
                f"{source}checkpoint {checkpoint_id} signed seq {seq}, the chain ends at seq "
                f"{head}: seq {head + 1}..{seq} deleted",
                checkpoint_id=checkpoint_id,
                seq=seq,
            )
        ]
    if seq in by_seq and by_seq[seq].hash != hash:
        return [
            _problem(
                "rewritten",
                f"event {by_seq[seq].id} (seq {seq}) has another hash than {source}checkpoint "
                f"{checkpoint_id} signed: the chain up to it was recomputed",
                event_id=by_seq[seq].id,
                checkpoint_id=checkpoint_id,
                seq=seq,
            )
        ]
    return []


def _seqs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}..{last}"
