"""Staff identities: argon2 password hashes, login, and bearer tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine import clock
from engine.errors import InvalidInput, Unauthorized
from engine.models import AuthToken, Instansi, RoleMembership, Unit, User
from engine.models.users import ROLES

TOKEN_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()


def configure_hasher(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Tune argon2 (the defaults are production strength; tests use a cheap setting)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Membership:
    role: str
    instansi_id: int | None
    unit_id: int | None


@dataclass(frozen=True)
class Principal:
    """The authenticated staff user as services see it."""

    user_id: int
    username: str
    memberships: tuple[Membership, ...]

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"

    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    def administered(self) -> set[int]:
        """The instansi this user is `admin_instansi` of (an instansi-wide membership)."""
        return {
            m.instansi_id
            for m in self.memberships
            if m.role == "admin_instansi" and m.instansi_id is not None and m.unit_id is None
        }


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    password: str,
    email: str | None = None,
    roles: Sequence[tuple[str, str | None, str | None]] = (),
) -> User:
    """Create a user with (role, instansi code, unit code) memberships; caller commits."""
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=hash_password(password),
        active=True,
        created_at=clock.now(),
    )
    for role, instansi_code, unit_code in roles:
        if role not in ROLES:
            raise InvalidInput(f"unknown role '{role}'", field="role")
        instansi_id = unit_id = None
        if instansi_code:
            instansi = session.scalar(select(Instansi).where(Instansi.code == instansi_code))
            if instansi is None:
                raise InvalidInput(f"unknown instansi '{instansi_code}'", field="instansi")
            instansi_id = instansi.id
        if unit_code:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                raise InvalidInput(f"unknown unit '{unit_code}'", field="unit")
            unit_id, instansi_id = unit.id, unit.instansi_id
        user.memberships.append(RoleMembership(role=role, instansi_id=instansi_id, unit_id=unit_id))
    session.add(user)
    session.flush()
    return user


def login(session: Session, *, username: str, password: str) -> tuple[str, AuthToken]:
    """Check the password and issue a bearer token (only its hash is stored)."""
    with session.begin():
        user = session.scalar(select(User).where(User.username == username))
        ok = False
        if user is not None and user.active:
            try:
                ok = _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok or user is None:
            raise Unauthorized("wrong username or password", field="password")
        token = secrets.token_urlsafe(32)
        now = clock.now()
        row = AuthToken(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
        session.add(row)
    return token, row


def authenticate(session: Session, *, token: str) -> Principal:
    """The principal of a live bearer token, or Unauthorized."""
    with session.begin():
        row = session.scalar(select(AuthToken).where(AuthToken.token_hash == _token_hash(token)))
        if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
            raise Unauthorized("the token is missing, expired or revoked", field="Authorization")
        user = session.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == row.user_id)
        )
        if user is None or not user.active:
            raise Unauthorized("the account is disabled", field="Authorization")
        return Principal(
            user.id,
            user.username,
            tuple(Membership(m.role, m.instansi_id, m.unit_id) for m in user.memberships),
        )


def logout(session: Session, *, token: str) -> bool:
    """Revoke the token (a web session ends with it); False when it was not live."""
    with session.begin():
        row = session.scalar(select(AuthToken).where(AuthToken.token_hash == _token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = clock.now()
        return True
