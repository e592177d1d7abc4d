"""The audit trail: one append-only row per action on a report, written in the same transaction.

Each report's events form a hash chain: `seq` counts 1, 2, 3... per report and `hash` is
SHA-256 over the event's fields and `prev_hash`, the hash of the report's previous event (all
zeros for the first). Events without a report form one more chain, the "no report" chain.
Checkpoints sign a chain's head with an HMAC keyed by a secret kept outside the database, so
that deleting a chain's newest events, or rewriting the whole chain, is caught too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime

GENESIS = "0" * 64  # the prev_hash of a chain's first event


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        # one event per place in a report's chain; the partial index does it for the no-report
        # chain, whose report_id NULLs a plain unique constraint would let repeat
        UniqueConstraint("report_id", "seq"),
        Index(
            "uq_audit_event_seq_no_report",
            "seq",
            unique=True,
            sqlite_where=text("report_id IS NULL"),
            postgresql_where=text("report_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # user:<id> | pelapor | system
    action: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # set when the event is flushed (engine.services.audit), never by callers
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A chain's head (`seq`, `hash`) at `at`, signed: `mac` = HMAC-SHA256 with the audit key.

    Append-only: each checkpoint run adds a row for every chain that advanced since its last one.
    """

    __tablename__ = "audit_checkpoint"
    __table_args__ = (Index("ix_audit_checkpoint_report_id_seq", "report_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    mac: Mapped[str] = mapped_column(String(64))
