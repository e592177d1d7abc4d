"""Staff users, their role memberships scoped to an instansi or unit, API bearer tokens, login
throttling, password reset tokens and the API keys of integrated agency apps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
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


class LoginThrottle(Base):
    """Failed logins of one username or one client address (`scope`), counted in a window;
    `locked_until` refuses that subject until then. `subject` is a SHA-256, never the text."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # username | address
    subject: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordResetToken(Base):
    """A one-time password reset token mailed to the user; only its SHA-256 is stored."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a newer one was issued


class ApiKey(Base):
    """A key of an integrated agency app: one instansi, named permissions (space-separated),
    only its SHA-256 stored. It acts through its own service-account user (`user_id`, no
    password, no memberships), so tasks it claims and audit rows it writes name it."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    instansi_id: Mapped[int] = mapped_column(ForeignKey("instansi.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), unique=True)
    permissions: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
