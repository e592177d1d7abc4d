"""API keys of integrated agency apps: one instansi, a few named permissions, stored hashed.

A key is shown once, when it is created; only its SHA-256 is kept, with a short `prefix` to
tell keys apart in listings. Each key acts through its own service-account user (no password,
no memberships of its own, never listed as staff), so the tasks it claims and the audit rows it
writes name it like any officer. As a `Principal` it holds the instansi-wide roles of its
instansi (it sees what that instansi's officers see, nothing of other instansi) and its
`permissions`, which `authenticate` checks against the one the endpoint needs.

Admins of the instansi (`admin_instansi`) and national admins create, list and revoke keys; a
key never manages keys. `last_used_at` is written at most once a minute per key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.db import valid_id
from engine.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from engine.models import Instansi, User
from engine.models.users import UNIT_ROLES, ApiKey
from engine.services import audit
from engine.services.auth import Membership, Principal, token_hash
from engine.text import check_storable

PERMISSIONS = ("reports:read", "reports:write", "tasks:read", "tasks:write", "webhooks:manage")
KEY_PREFIX = "lapork_"
NATIONAL, INSTANSI_ADMIN = "admin_nasional", "admin_instansi"
KEY_ROLES = (INSTANSI_ADMIN, *sorted(UNIT_ROLES))  # instansi-wide: every unit's tasks too
LAST_USED_EVERY = timedelta(minutes=1)
MAX_NAME = 100
UNUSABLE_HASH = "!"  # not an argon2 hash: no password ever matches it


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    name: str
    prefix: str
    instansi_code: str
    permissions: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    view: ApiKeyView
    key: str  # the only time anyone sees it


def is_api_key(credential: str) -> bool:
    """Whether a bearer credential is an API key rather than a login token."""
    return credential.startswith(KEY_PREFIX)


def _view(row: ApiKey, instansi_code: str) -> ApiKeyView:
    return ApiKeyView(
        row.id,
        row.name,
        row.prefix,
        instansi_code,
        row.permissions.split(),
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


def _require_manager(principal: Principal) -> None:
    if principal.api_key_id is not None:
        raise Forbidden("API keys cannot manage API keys", field="Authorization")
    if NATIONAL not in principal.roles() and not principal.administered():
        raise Forbidden("only admin_nasional or admin_instansi may manage API keys", field="role")


def _instansi(session: Session, principal: Principal, code: str) -> Instansi:
    instansi = session.scalar(select(Instansi).where(Instansi.code == code))
    if instansi is None:
        raise NotFound(f"unknown instansi '{code}'", field="instansi")
    if NATIONAL not in principal.roles() and instansi.id not in principal.administered():
        raise Forbidden(f"only admins of {code} may manage its API keys", field="instansi")
    return instansi


def _checked_permissions(permissions: Iterable[str]) -> list[str]:
    chosen = sorted(set(permissions))
    unknown = [p for p in chosen if p not in PERMISSIONS]
    if unknown or not chosen:
        raise InvalidInput(
            f"permissions: one or more of {', '.join(PERMISSIONS)}", field="permissions"
        )
    return chosen


def create(
    session: Session, *, principal: Principal, instansi_code: str, name: str, permissions: list[str]
) -> CreatedKey:
    """A new key for the instansi's app; the answer holds the key itself, never stored."""
    _require_manager(principal)
    name = name.strip()
    check_storable(name, "name")
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(f"name: 1-{MAX_NAME} characters", field="name")
    chosen = _checked_permissions(permissions)
    with session.begin():
        instansi = _instansi(session, principal, instansi_code)
        now = clock.now()
        prefix = KEY_PREFIX + secrets.token_hex(4)
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        account = User(
            username=f"apikey:{prefix}",  # ':' is never in a staff username
            full_name=name,
            email=None,
            password_hash=UNUSABLE_HASH,
            active=True,
            created_at=now,
        )
        session.add(account)
        session.flush()
        row = ApiKey(
            name=name,
            prefix=prefix,
            key_hash=token_hash(key),
            instansi_id=instansi.id,
            user_id=account.id,
            permissions=" ".join(chosen),
            created_by_id=principal.user_id,
            created_at=now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=principal.actor,
            action="api_key.created",
            data={"api_key_id": row.id, "instansi_id": instansi.id, "permissions": chosen},
        )
        return CreatedKey(_view(row, instansi.code), key)


def list_keys(
    session: Session, *, principal: Principal, instansi_code: str | None = None
) -> list[ApiKeyView]:
    """The keys (revoked ones too) of one instansi, or of every instansi the principal
    administers (national admins: all), newest first."""
    _require_manager(principal)
    with session.begin():
        stmt = select(ApiKey, Instansi.code).join(Instansi, Instansi.id == ApiKey.instansi_id)
        if instansi_code is not None:
            stmt = stmt.where(ApiKey.instansi_id == _instansi(session, principal, instansi_code).id)
        elif NATIONAL not in principal.roles():
            stmt = stmt.where(ApiKey.instansi_id.in_(principal.administered()))
        rows = session.execute(stmt.order_by(ApiKey.id.desc())).all()
        return [_view(row, code) for row, code in rows]


def revoke(session: Session, *, principal: Principal, key_id: int) -> ApiKeyView:
    """Revoke the key at once (its next request is 401); revoking twice changes nothing."""
    _require_manager(principal)
    if not valid_id(key_id):
        raise NotFound("no such API key", field="key_id")
    with session.begin():
        row = session.get(ApiKey, key_id, with_for_update=True)
        instansi = session.get(Instansi, row.instansi_id) if row is not None else None
        visible = NATIONAL in principal.roles() or (
            row is not None and row.instansi_id in principal.administered()
        )
        if row is None or instansi is None or not visible:  # another instansi's key: missing
            raise NotFound("no such API key", field="key_id")
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            account = session.get(User, row.user_id)
            if account is not None:
                account.active = False
            audit.record(
                session,
                actor=principal.actor,
                action="api_key.revoked",
                data={"api_key_id": row.id, "instansi_id": row.instansi_id},
            )
        return _view(row, instansi.code)


def authenticate(session: Session, *, key: str, permission: str | None) -> Principal:
    """The principal of a live key that holds `permission` (None: the endpoint takes no keys).

    Unknown or revoked: Unauthorized; live but without the permission: Forbidden.
    """
    with session.begin():
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == token_hash(key)))
        if row is None or row.revoked_at is not None:
            raise Unauthorized("the API key is unknown or revoked", field="Authorization")
        granted = frozenset(row.permissions.split())
        if permission is None:
            raise Forbidden("this endpoint does not accept API keys", field="Authorization")
        if permission not in granted:
            raise Forbidden(
                f"this API key lacks the '{permission}' permission",
                field="Authorization",
                code="missing_permission",
            )
        now = clock.now()
        if row.last_used_at is None or row.last_used_at <= now - LAST_USED_EVERY:
            row.last_used_at = now
        return Principal(
            row.user_id,
            row.prefix,
            tuple(Membership(role, row.instansi_id, None) for role in KEY_ROLES),
            api_key_id=row.id,
            permissions=granted,
        )
