"""Staff identities: argon2 password hashes, login with throttling, and bearer tokens (stored
hashed).

Failed logins are counted in the database (`LoginThrottle`), so every process agrees: per
username (a success resets it) and per client address (to slow password spraying across many
usernames). Past the limit within the window, the subject is locked for a while and every login
for it answers `LockedOut` (429), right password or not, known username or not: the answer never
tells whether an account exists. Each lockout is audited with ids only.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from engine import clock
from engine.errors import DomainError, InvalidInput, Unauthorized
from engine.models import AuthToken, Instansi, RoleMembership, Unit, User
from engine.models.users import ROLES, LoginThrottle
from engine.services import audit

TOKEN_LIFETIME = timedelta(hours=12)
USERNAME, ADDRESS = "username", "address"
_hasher = PasswordHasher()
_dummy_hash: str | None = None  # verified against when the user is unknown: same work, same time


class LockedOut(DomainError):
    """Too many failed logins for this username or address: try again later (429)."""

    status = 429
    code = "locked"


@dataclass(frozen=True)
class Throttle:
    """How many failures (per username, per client address) within `window` lock for `lockout`."""

    max_failures: int = 5
    address_max_failures: int = 50
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def configure_hasher(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Tune argon2 (the defaults are production strength; tests use a cheap setting)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is the active user's; an unknown user costs one verification too."""
    global _dummy_hash
    if user is None or not user.active:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        stored = _dummy_hash
    else:
        stored = user.password_hash
    try:
        return _hasher.verify(stored, password) and user is not None and user.active
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Membership:
    role: str
    instansi_id: int | None
    unit_id: int | None


@dataclass(frozen=True)
class Principal:
    """The authenticated staff user as services see it. An API key is a principal too: its
    service-account user, memberships in its one instansi, and the `permissions` it was given
    (None for people, who are limited by their roles alone)."""

    user_id: int
    username: str
    memberships: tuple[Membership, ...]
    api_key_id: int | None = None
    permissions: frozenset[str] | None = None

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

    def may(self, permission: str) -> bool:
        """Whether an API key was given `permission` (people: always; their roles decide)."""
        return self.permissions is None or permission in self.permissions


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


# --- throttling ------------------------------------------------------------------------------


def _subject(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _throttle_row(session: Session, scope: str, subject: str) -> LoginThrottle | None:
    return session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.subject == subject)
        .with_for_update()
    )


def _subjects(username: str, client: str | None) -> list[tuple[str, str]]:
    found = [(USERNAME, _subject(username.casefold()))]
    if client:
        found.append((ADDRESS, _subject(client)))
    return found


def _locked_until(session: Session, subjects: list[tuple[str, str]], now: datetime) -> datetime:
    """The latest lock still running on any of the subjects, or `now` when none is."""
    until = now
    for scope, subject in subjects:
        row = _throttle_row(session, scope, subject)
        if row is not None and row.locked_until is not None and row.locked_until > until:
            until = row.locked_until
    return until


def _count_failure(
    session: Session, scope: str, subject: str, limit: int, throttle: Throttle, now: datetime
) -> LoginThrottle | None:
    """One more failure for the subject; returns its row when this failure locks it."""
    row = _throttle_row(session, scope, subject)
    if row is None:
        try:
            with session.begin_nested():  # a concurrent first failure may insert it too
                row = LoginThrottle(scope=scope, subject=subject, failures=0, window_started_at=now)
                session.add(row)
        except IntegrityError:
            row = _throttle_row(session, scope, subject)
            assert row is not None
    if row.window_started_at <= now - throttle.window:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures < limit:
        return None
    row.failures, row.window_started_at, row.locked_until = 0, now, now + throttle.lockout
    return row


def _locked(until: datetime, now: datetime) -> LockedOut:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return LockedOut(
        f"too many failed logins: try again in {minutes} minute(s)",
        field="username",
        extra={"retry_after": minutes * 60},
    )


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client: str | None = None,
    throttle: Throttle | None = None,
) -> tuple[str, AuthToken]:
    """Check the password and issue a bearer token (only its hash is stored).

    `client` is the request's address. A locked username or address is refused with
    `LockedOut` before the password is looked at; a failure is counted (and committed) before
    `Unauthorized` or, when it reaches the limit, `LockedOut` is raised.
    """
    limits = throttle or Throttle()
    subjects = _subjects(username, client)
    with session.begin():
        now = clock.now()
        until = _locked_until(session, subjects, now)
        if until > now:
            raise _locked(until, now)
        user = session.scalar(select(User).where(User.username == username))
        if password_matches(user, password) and user is not None:
            clear_failures(session, username=username)  # the address keeps its own count
            return issue_token(session, user_id=user.id, now=now)
        refusal: DomainError = Unauthorized("wrong username or password", field="password")
        for scope, subject in subjects:
            limit = limits.max_failures if scope == USERNAME else limits.address_max_failures
            locked = _count_failure(session, scope, subject, limit, limits, now)
            if locked is not None:
                session.flush()
                audit.record(
                    session,
                    actor="system",
                    action="auth.locked_out",
                    data={
                        "scope": scope,
                        "throttle_id": locked.id,
                        "user_id": user.id if user is not None and scope == USERNAME else None,
                    },
                )
                refusal = _locked(now + limits.lockout, now)
    raise refusal


def issue_token(session: Session, *, user_id: int, now: datetime) -> tuple[str, AuthToken]:
    """A new bearer token (the web session's too) for the user; only its hash is stored. Every
    way of signing in (password, SSO) gets its token here; caller commits."""
    token = secrets.token_urlsafe(32)
    issued = AuthToken(
        token_hash=token_hash(token),
        user_id=user_id,
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    session.add(issued)
    return token, issued


def clear_failures(session: Session, *, username: str) -> None:
    """Forget the username's failed logins (a password was just reset); caller commits."""
    row = _throttle_row(session, USERNAME, _subject(username.casefold()))
    if row is not None:
        session.delete(row)


def revoke_sessions(session: Session, *, user_id: int) -> int:
    """End every live bearer token and web session of the user; caller commits."""
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- sessions --------------------------------------------------------------------------------


def principal_of(session: Session, user_id: int) -> Principal | None:
    """The principal of an active user with its memberships, or None."""
    user = session.scalar(
        select(User).options(selectinload(User.memberships)).where(User.id == user_id)
    )
    if user is None or not user.active:
        return None
    return Principal(
        user.id,
        user.username,
        tuple(Membership(m.role, m.instansi_id, m.unit_id) for m in user.memberships),
    )


def authenticate(session: Session, *, token: str) -> Principal:
    """The principal of a live bearer token, or Unauthorized."""
    with session.begin():
        row = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
            raise Unauthorized("the token is missing, expired or revoked", field="Authorization")
        principal = principal_of(session, row.user_id)
        if principal is None:
            raise Unauthorized("the account is disabled", field="Authorization")
        return principal


def logout(session: Session, *, token: str) -> bool:
    """Revoke the token (a web session ends with it); False when it was not live."""
    with session.begin():
        row = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = clock.now()
        return True
