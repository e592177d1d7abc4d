"""Tables owned by the SLA package (registered on the shared declarative base)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime


class SchedulerHeartbeat(Base):
    """The last moment each scheduler process proved it was alive."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
