"""Process definitions (versioned BPMN), their running instances, and the human tasks they open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, JSONType, UTCDateTime


class ProcessDefinition(Base):
    """One deployed version of a BPMN process; its parsed spec is stored once, here."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "checksum"),
        UniqueConstraint("key", "release_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # intake | sop
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(128))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    task_meta: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The current version of a key is the one released last: deployed, or rolled back to.
    release_seq: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessInstance(Base):
    """A running or finished case of a definition; the engine state is per-instance JSON only."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    # running | incident | completed | cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident: Mapped[str | None] = mapped_column(Text)  # the engine error of status `incident`
    incident_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    definition: Mapped[ProcessDefinition] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A user task offered to the holders of its lane's role in the responsible instansi/unit."""

    __tablename__ = "human_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    milestone: Mapped[str | None] = mapped_column(String(32))
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | completed | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
