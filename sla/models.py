"""Tables owned by the SLA package (registered on the shared declarative base).

Calendar adjustments and office hours, SLA policies, deadlines (the durable truth the scheduler
sweeps), their firing log, escalations, in-app alerts, the delivery outbox, webhook endpoints,
the test-mode clock and scheduler heartbeats.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime


class SchedulerHeartbeat(Base):
    """The last moment each scheduler process proved it was alive."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarAdjustment(Base):
    """A day an admin made a holiday (`holiday`) or a working day (`working_day`).

    Scope: national (both null), a region (`region_code`, also its regencies), or one instansi.
    """

    __tablename__ = "calendar_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OfficeHours(Base):
    """Office hours of an instansi for hour-based deadlines (default 08:00-16:00 local)."""

    __tablename__ = "office_hours"

    instansi_id: Mapped[int] = mapped_column(ForeignKey("instansi.id"), primary_key=True)
    opens: Mapped[str] = mapped_column(String(5))  # HH:MM local
    closes: Mapped[str] = mapped_column(String(5))


class SlaPolicy(Base):
    """How long a milestone may take: national (instansi null) or for one instansi.

    `duration` is in working days (`wd`) or office hours (`wh`); `reminder` is before due in the
    same unit; `escalation_every` is how long an overdue task waits before the next level.
    """

    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("instansi_id", "milestone", "classification"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(32))
    classification: Mapped[str | None] = mapped_column(String(32))
    duration: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(2))
    reminder: Mapped[int] = mapped_column(Integer, default=1)
    escalation_every: Mapped[int] = mapped_column(Integer, default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Deadline(Base):
    """A moment something must happen; the scheduler claims due rows and fires each once."""

    __tablename__ = "deadline"
    __table_args__ = (Index("ix_deadline_pending_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # due | reminder | escalation | outer_limit ...
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    level: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | fired | cancelled
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadlineFiring(Base):
    """Every firing, by which scheduler; deliberately without a unique constraint, so a
    duplicate firing would show up here instead of being hidden."""

    __tablename__ = "deadline_firing"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadline.id"), index=True)
    scheduler: Mapped[str] = mapped_column(String(128))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Escalation(Base):
    __tablename__ = "escalation"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    from_instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"))
    to_instansi_id: Mapped[int] = mapped_column(ForeignKey("instansi.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # overdue | outer_limit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """An in-app alert for one staff user (the alert inbox, with read state)."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalation.id"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A delivery to make (email or webhook), written in the transaction that caused it.

    Delivered at least once with the stable `event_id`; retried with exponential backoff for up
    to 24 hours, then `dead` with its last error (operators can re-send it).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    recipient: Mapped[str] = mapped_column(String(500))  # address or URL
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoint.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(Base):
    """Where an instansi wants its events POSTed, and the secret they are signed with."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    instansi_id: Mapped[int] = mapped_column(ForeignKey("instansi.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # what it receives: `instansi` (reports the instansi handles) or `channel` (reports filed
    # through the API key `api_key_id`, which made it); `event_types` null means every type
    source: Mapped[str] = mapped_column(String(16), default="instansi", server_default="instansi")
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)
    event_types: Mapped[list[str] | None] = mapped_column(JSONType)


class ClockSetting(Base):
    """The test-mode clock shared by every process (one row; never used in production)."""

    __tablename__ = "clock_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
