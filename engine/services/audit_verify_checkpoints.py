"""Verify the checkpoints as a whole: their chain in the database, and the anchor file against it.

Used by engine.services.audit_verify, which walks the events; this module names:

- `checkpoint_deleted`: a checkpoint the anchor holds is not in the database (named with its
  report and seq), or, from the database alone, a checkpoint's mac follows one that is not there
  (the ones between its neighbours were deleted);
- `checkpoint_altered`: a checkpoint in the database differs from its copy in the anchor;
- `unanchored`: a checkpoint in the database that the anchor lacks (its run stopped between its
  commit and its line; the next run copies it; anything else is an insertion);
- `anchor_missing`: no anchor file (or an empty one) while the database holds checkpoints;
- `anchor_line`: an anchor line that is not sound (edited, cut short) or does not follow the
  line before it.

`Anchor.load` reads the file once, keeping only each chain's newest anchored checkpoint, which
the event walk checks like a checkpoint in the database: the newest events deleted together with
their checkpoints are then named as well (`truncated`, or `rewritten`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models.audit import GENESIS, AuditCheckpoint
from engine.services import audit, audit_anchor

BATCH = 1000  # checkpoints per read
CHECKPOINTS = AuditCheckpoint.__table__
Found = dict[str, Any]  # a problem: kind, detail, report_id, event_id, seq, checkpoint_id


def problem(
    kind: str,
    detail: str,
    *,
    report_id: int | None = None,
    seq: int | None = None,
    checkpoint_id: int | None = None,
) -> Found:
    return {
        "kind": kind,
        "detail": detail,
        "report_id": report_id,
        "event_id": None,
        "seq": seq,
        "checkpoint_id": checkpoint_id,
    }


def _fields(row: Any) -> tuple[Any, ...]:
    return (row.report_id, row.seq, row.hash, audit.moment_text(row.at), row.mac)


def _anchored_fields(head: audit_anchor.Head) -> tuple[Any, ...]:
    return (head.report_id, head.seq, head.hash, head.at, head.mac)


@dataclass
class Anchor:
    """What the anchor file says, read up to `size` bytes, for one report or all."""

    path: Path
    key: bytes
    report_id: int | None  # None: every chain
    size: int = 0
    ceiling: int = 0  # the newest checkpoint id the database had while the size was noted
    checkpoints: int = 0  # anchored checkpoints read (of the report, when one)
    newest: dict[int | None, audit_anchor.Head] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)  # anchored ids not in the database
    problems: list[Found] = field(default_factory=list)
    only: bool = False  # one report's checkpoints (`report_id`, even if None) rather than all

    @classmethod
    def load(
        cls, session: Session, path: Path, key: bytes, *, report_id: int | None, only: bool
    ) -> Anchor:
        found = cls(path, key, report_id, only=only)
        with audit_anchor.noted(path) as size, session.begin():
            found.size = size
            found.ceiling = session.scalar(select(func.max(AuditCheckpoint.id))) or 0
        if size == 0:
            if found.ceiling:
                found.problems.append(
                    problem(
                        "anchor_missing",
                        f"the audit anchor {path} is missing or empty, but the database holds "
                        "checkpoints (up to id "
                        f"{found.ceiling}): restore it, or point LAPOR_AUDIT_ANCHOR_PATH at it",
                    )
                )
            return found
        for line in found.lines(note=True):
            for head in line.heads if line.error is None else ():
                if found.wanted(head.report_id):
                    found.checkpoints += 1
                    known = found.newest.get(head.report_id)
                    if known is None or head.seq >= known.seq:
                        found.newest[head.report_id] = head
        return found

    def wanted(self, report_id: int | None) -> bool:
        return not self.only or report_id == self.report_id

    def lines(self, *, note: bool = False) -> Iterator[audit_anchor.Line]:
        """Every line, in order (`error` set on unsound ones); with `note`, the unsound ones and
        those that do not follow the line before become problems."""
        prev = GENESIS
        for line in audit_anchor.read(self.path, self.key, upto=self.size):
            error = line.error
            if error is None and line.prev != prev:
                error = "does not follow the line before it (lines removed?)"
            if note and error is not None:
                self.problems.append(
                    problem("anchor_line", f"line {line.number} of the audit anchor {error}")
                )
            if line.heads:  # a line that still parses: follow its chain all the same
                prev = line.mac
            yield line

    def compare(self, session: Session) -> list[Found]:
        """Every anchored checkpoint against the database, and the database's checkpoints up to
        the ceiling that the anchor lacks."""
        if self.size == 0:
            return []
        found: list[Found] = []
        done = 0  # checkpoint ids up to this one are compared
        for line in self.lines():
            if line.first > done + 1:
                found += self._unanchored(session, done, line.first - 1)
            if line.error is not None:  # noted already; its checkpoints cannot be judged
                done = max(done, line.last)
                continue
            heads = [h for h in line.heads if self.wanted(h.report_id)]
            rows = {r.id: r for r in self._rows(session, line.first, line.last)}
            held = {h.id for h in line.heads}
            for head in heads:
                row = rows.get(head.id)
                where = {"report_id": head.report_id, "seq": head.seq, "checkpoint_id": head.id}
                if row is None:
                    self.deleted.add(head.id)
                    found.append(
                        problem(
                            "checkpoint_deleted",
                            f"checkpoint {head.id} (seq {head.seq}) is in the anchor "
                            f"(line {line.number}) but not in the database",
                            **where,
                        )
                    )
                elif _reused(self.key, row, head):
                    self.deleted.add(head.id)
                    found.append(
                        problem(
                            "checkpoint_deleted",
                            f"checkpoint {head.id} (seq {head.seq}) is in the anchor "
                            f"(line {line.number}); the database has another checkpoint "
                            "under its id",
                            **where,
                        )
                    )
                elif _fields(row) != _anchored_fields(head):
                    found.append(
                        problem(
                            "checkpoint_altered",
                            f"checkpoint {head.id} differs from its copy in the anchor "
                            f"(line {line.number}): it signed seq {head.seq}",
                            **where,
                        )
                    )
            found += [self._stray(r) for i, r in rows.items() if i not in held]
            done = max(done, line.last)
        if self.ceiling > done:
            found += self._unanchored(session, done, self.ceiling)
        return found

    def _rows(self, session: Session, first: int, last: int) -> list[Any]:
        with session.begin():
            stmt = select(*CHECKPOINTS.c).where(CHECKPOINTS.c.id.between(first, last))
            if self.only:
                stmt = stmt.where(_of_report(self.report_id))
            return list(session.execute(stmt.order_by(CHECKPOINTS.c.id)))

    def _unanchored(self, session: Session, after: int, upto: int) -> list[Found]:
        found: list[Found] = []
        while after < upto:
            rows = self._rows(session, after + 1, min(upto, after + BATCH))
            found += [self._stray(r) for r in rows]
            after = min(upto, after + BATCH)
        return found

    @staticmethod
    def _stray(row: Any) -> Found:
        return problem(
            "unanchored",
            f"checkpoint {row.id} (seq {row.seq}) is not in the anchor: written by a run that "
            "stopped before its anchor line (the next run copies it), or inserted",
            report_id=row.report_id,
            seq=row.seq,
            checkpoint_id=row.id,
        )


def _reused(key: bytes, row: Any, head: audit_anchor.Head) -> bool:
    """Whether the database holds another genuine checkpoint under an anchored one's id: the
    anchored one was deleted and its id given again (SQLite reuses the highest id)."""
    other = (row.report_id, row.seq, row.hash) != (head.report_id, head.seq, head.hash)
    return other and audit.seal_of(key, row).signed


def _of_report(report_id: int | None) -> Any:
    if report_id is None:
        return CHECKPOINTS.c.report_id.is_(None)
    return CHECKPOINTS.c.report_id == report_id


def check_chain(
    session: Session, key: bytes, *, ceiling: int | None, named: set[int]
) -> list[Found]:
    """Walk every checkpoint by id: each chained mac must follow the one before it. A break
    means checkpoints between the two were deleted, unless the anchor `named` them already (or
    the one before is itself altered: `bad_signature` names that one)."""
    found: list[Found] = []
    prev, prev_id, prev_sound, last = GENESIS, 0, True, 0
    while True:
        with session.begin():
            stmt = select(*CHECKPOINTS.c).where(CHECKPOINTS.c.id > last)
            if ceiling is not None:
                stmt = stmt.where(CHECKPOINTS.c.id <= ceiling)
            rows = list(session.execute(stmt.order_by(CHECKPOINTS.c.id).limit(BATCH)))
        if not rows:
            return found
        for row in rows:
            seal = audit.seal_of(key, row)
            gone = any(prev_id < i <= row.id for i in named)
            checkable = seal.signed and seal.chained and prev_sound and not gone
            if checkable and not audit.links(key, row.mac, prev):
                span = f"after checkpoint {prev_id} and " if prev_id else ""
                found.append(
                    problem(
                        "checkpoint_deleted",
                        f"checkpoint {row.id} was signed after another checkpoint than the "
                        f"one before it now: checkpoints {span}before {row.id} were deleted",
                        report_id=row.report_id,
                        seq=row.seq,
                        checkpoint_id=row.id,
                    )
                )
            prev, prev_id, prev_sound = row.mac, row.id, seal.signed
        last = rows[-1].id
