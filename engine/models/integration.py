"""Integrated channels: which app filed a report, idempotent filing, and the change feed.

- `ReportChannel`: a report filed by an agency app or gateway through its API key, with the
  app's own reference for it.
- `IdempotencyRecord`: the first answer to an `Idempotency-Key`, kept 24 hours per caller, so a
  retried or raced filing returns it instead of filing again. The answer holds the pelapor's
  secret, so it is sealed like contact data.
- `ChangeEvent`: the append-only feed of what happened to reports (filed, forwarded, followed
  up, escalated, reopened, closed) that apps pull by cursor when their webhook was down. `seq`
  is given after commit by `sla.changes.sequence`, so a cursor never skips an event whose
  transaction committed late; `ChangeSequence` is the one counter row that serialises it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from engine.personal_data import SealedText


class ReportChannel(Base):
    """The integrated app (API key) that filed a report."""

    __tablename__ = "report_channel"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(100))


class IdempotencyRecord(Base):
    """The first result of a request made with an `Idempotency-Key` by one caller."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("caller", "key", name="uq_idempotency_record_caller_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(40))  # key:<api key id> | user:<user id>
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical request
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(SealedText("idempotency_record.response"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ChangeEvent(Base):
    """One change of a report, for the instansi handling it and the app that filed it."""

    __tablename__ = "change_event"
    __table_args__ = (
        Index("ix_change_event_instansi_seq", "instansi_id", "seq"),
        Index("ix_change_event_channel_seq", "channel_key_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)  # given after commit
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"))
    channel_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeSequence(Base):
    """The single row holding the last `seq` given; locked while sequencing."""

    __tablename__ = "change_sequence"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
