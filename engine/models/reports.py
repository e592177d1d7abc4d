"""Reports (laporan) filed by a pelapor, and their public timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, JSONType, UTCDateTime
from engine.personal_data import SealedText, email_index

CLASSIFICATIONS = ("pengaduan", "aspirasi", "permintaan_informasi")

# GESI (gender equality and social inclusion) answers: each optional, given only when the pelapor
# chooses to, used only for disaggregated statistics; never in public views, the feed or task
# views. The one list of the values each may take, with the Indonesian label the form shows:
GENDERS = (
    "perempuan",  # Perempuan
    "laki_laki",  # Laki-laki
)
DISABILITIES = (  # the kinds of UU 8/2016 on persons with disabilities
    "tidak_ada",  # Tidak ada
    "fisik",  # Disabilitas fisik
    "intelektual",  # Disabilitas intelektual
    "mental",  # Disabilitas mental
    "sensorik_netra",  # Disabilitas sensorik: netra (penglihatan)
    "sensorik_rungu_wicara",  # Disabilitas sensorik: rungu atau wicara
    "ganda",  # Disabilitas ganda (lebih dari satu)
)
VULNERABLE_GROUPS = (
    "tidak_ada",  # Tidak ada
    "lansia",  # Lanjut usia
    "anak",  # Anak (di bawah 18 tahun)
    "ibu_hamil_menyusui",  # Ibu hamil atau menyusui
    "masyarakat_adat",  # Masyarakat hukum adat
    "keluarga_miskin",  # Keluarga miskin atau rentan miskin
    "pekerja_migran",  # Pekerja migran
)
GESI_CHOICES = {
    "gender": GENDERS,
    "disability": DISABILITIES,
    "vulnerable_group": VULNERABLE_GROUPS,
}


class Report(Base):
    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    classification: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    target_instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    current_instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    current_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    anonim: Mapped[bool] = mapped_column(Boolean, default=False)
    rahasia: Mapped[bool] = mapped_column(Boolean, default=False)
    # the pelapor's identity and contact, encrypted at rest (engine.personal_data); an email is
    # found through its keyed blind index, kept in step by `_index_email` below
    pelapor_name: Mapped[str | None] = mapped_column(SealedText("report.pelapor_name"))
    pelapor_email: Mapped[str | None] = mapped_column(SealedText("report.pelapor_email"))
    pelapor_phone: Mapped[str | None] = mapped_column(SealedText("report.pelapor_phone"))
    pelapor_email_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    # optional GESI answers (values from GESI_CHOICES); for statistics only
    gender: Mapped[str | None] = mapped_column(String(32))
    disability: Mapped[str | None] = mapped_column(String(32))
    vulnerable_group: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # A duplicate of another report (a burst of the same complaint) follows its main report.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="report", order_by="TimelineEntry.id"
    )


@event.listens_for(Report.pelapor_email, "set")
def _index_email(report: Report, value: str | None, _old: object, _initiator: object) -> None:
    report.pelapor_email_hmac = email_index(value)


class TimelineEntry(Base):
    """One step in a report's history; `status` is set when the step changed the status."""

    __tablename__ = "timeline_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    report: Mapped[Report] = relationship(back_populates="timeline")
