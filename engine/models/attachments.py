"""Files a pelapor attached to a report: the bytes live on disk under a random name, this row
holds what was checked about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    # random file name in the attachment folder; never derived from anything the client sent
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    # the client's file name, sanitised; shown to the pelapor and (not anonim) handling staff
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))  # sniffed from the bytes
    size: Mapped[int] = mapped_column(Integer)  # of the stored (re-encoded) file
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
