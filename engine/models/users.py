"""Staff users, their role memberships scoped to an instansi or unit, and API bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, UTCDateTime

ROLES = (
    "admin_nasional",
    "admin_instansi",
    "admin_unit",
    "pejabat_penghubung",
    "supervisor",
    "process_designer",
    "operator",
)

# BPMN lane names (docs/bpmn-contract.md section 2) and the roles their tasks are offered to.
LANE_ROLES = {
    "admin nasional": "admin_nasional",
    "admin instansi": "admin_instansi",
    "admin unit": "admin_unit",
    "pejabat penghubung": "pejabat_penghubung",
}
UNIT_ROLES = frozenset({"admin_unit", "pejabat_penghubung"})


def role_for_lane(lane: str | None) -> str:
    """The role a lane maps to (docs/bpmn-contract.md); unknown lanes go to the instansi admin."""
    return LANE_ROLES.get((lane or "").strip().lower(), "admin_instansi")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    memberships: Mapped[list[RoleMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class RoleMembership(Base):
    """A role held by a user within an instansi, a unit, or nationally (both null)."""

    __tablename__ = "role_membership"
    __table_args__ = (UniqueConstraint("user_id", "role", "instansi_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    instansi_id: Mapped[int | None] = mapped_column(ForeignKey("instansi.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")


class AuthToken(Base):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
