"""Background exports of reports (CSV or XLSX): one row per job, its filters, its progress, the
lease of the worker running it, and the file it produced.

A job is `queued` when asked for, `running` while a worker holds its lease (`lease_owner`,
`lease_until`, renewed with every progress update), then `done` (the file is ready), `failed`
(with `error_code`) or, after the retention period, `expired` (the file is gone). A `running`
job whose lease ran out belongs to a worker that died: the next worker takes it again and
starts it over. The file has a random name in the exports folder (`LAPOR_EXPORT_DIR`, outside
the served folders); only that name is stored, never a path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime

QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"
STATES = (QUEUED, RUNNING, DONE, FAILED, EXPIRED)
FORMATS = ("csv", "xlsx")


class ExportJob(Base):
    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    # who asked (a person, or an API key's service account); only they see the job
    requester_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    # what the requester could export when asking ({"national", "instansi", "units",
    # "supervises"}: codes); the run checks the requester's live roles again
    scope: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # {"instansi", "subtree", "from", "to", "status", "time_zone"} (engine.services.exports)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    format: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), index=True)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
