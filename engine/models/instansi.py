"""The instansi registry: regions (Kemendagri codes), government bodies and their units."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

INSTANSI_KINDS = (
    "kementerian",
    "lembaga",
    "lembaga_negara",
    "provinsi",
    "kabupaten",
    "kota",
    "bumn",
    "perguruan_tinggi",
    "perwakilan",
)
TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


class Region(Base):
    """A province (`34`) or regency/city (`34.04`) by its Kemendagri code."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    timezone: Mapped[str] = mapped_column(String(32))


class Instansi(Base):
    """A government body that handles reports; regional governments carry their region code."""

    __tablename__ = "instansi"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    timezone: Mapped[str] = mapped_column(String(32), default="Asia/Jakarta")
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    supervisor: Mapped[Instansi | None] = relationship(remote_side=[id])
    units: Mapped[list[Unit]] = relationship(back_populates="instansi")


class Unit(Base):
    """A unit kerja inside an instansi (a department, an OPD of a regency)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    instansi_id: Mapped[int] = mapped_column(ForeignKey("instansi.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    instansi: Mapped[Instansi] = relationship(back_populates="units")
