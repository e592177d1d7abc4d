"""OpenID Connect login for staff: an instansi's SSO provider, and which provider identity
(issuer, subject) belongs to which staff user.

The client secret is sealed at rest like the pelapor's contact data (`SealedText`, AES-256-GCM
under `LAPOR_PERSONAL_DATA_KEY`); services read and write it as plain text and never show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from engine.personal_data import SealedText


class OidcProvider(Base):
    """An instansi's OpenID provider: at most one per instansi, used only while `enabled`, for
    the staff whose email addresses lie in `email_domains`."""

    __tablename__ = "oidc_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    instansi_id: Mapped[int] = mapped_column(ForeignKey("instansi.id"), unique=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(SealedText("oidc_provider.client_secret"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # the email domains it vouches for (lower case, e.g. ["slemankab.go.id"]): a first login
    # links only an address of one of them
    email_domains: Mapped[list[Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OidcLink(Base):
    """A provider identity (its `iss` and `sub`) linked to a staff user at their first SSO login;
    later logins find the user by it, whatever the email says then."""

    __tablename__ = "oidc_link"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
