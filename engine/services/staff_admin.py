"""Staff administration per instansi: users and their roles, units, deactivation, and handing a
user's claimed tasks to a colleague while they are on leave.

National admins manage everyone. An instansi's `admin_instansi` manages the users whose roles
all lie in that instansi (or its units), grants only instansi-level roles there, and creates its
units. National roles (`admin_nasional`, `operator`) and national memberships are granted only
by national admins. Every change is audited. A user in another instansi looks like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from engine import clock
from engine.db import valid_id
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuthToken, HumanTask, Instansi, RoleMembership, Unit, User
from engine.models.users import ROLES, UNIT_ROLES
from engine.services import audit, auth
from engine.services.auth import Principal

NATIONAL_ADMIN = "admin_nasional"
NATIONAL_ROLES = frozenset({"admin_nasional", "operator"})
MIN_PASSWORD, MAX_PASSWORD = 12, 1024


@dataclass(frozen=True)
class RoleGrant:
    role: str
    instansi_code: str | None = None
    unit_code: str | None = None


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    full_name: str
    email: str | None
    active: bool
    roles: list[RoleGrant]
    claimed_open_tasks: int


def _national(principal: Principal) -> bool:
    return NATIONAL_ADMIN in principal.roles()


def _require_admin(principal: Principal) -> None:
    if not _national(principal) and not principal.administered():
        raise Forbidden("only national and instansi admins manage staff", field="role")


def _instansi(session: Session, principal: Principal, code: str | None, field: str) -> Instansi:
    instansi = None
    if code and len(code) <= 32:
        instansi = session.scalar(select(Instansi).where(Instansi.code == code))
    if instansi is None:
        raise NotFound(f"no instansi '{(code or '')[:32]}'", field=field)
    if not _national(principal) and instansi.id not in principal.administered():
        raise Forbidden(f"you do not administer instansi '{code}'", field=field)
    return instansi


def _manages(principal: Principal, user: User) -> bool:
    if _national(principal):
        return True
    mine = principal.administered()
    return bool(user.memberships) and all(m.instansi_id in mine for m in user.memberships)


def _user(session: Session, principal: Principal, user_id: int, field: str = "user_id") -> User:
    user = None
    if valid_id(user_id):
        user = session.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == user_id)
        )
    if user is None or not _manages(principal, user):
        raise NotFound("no such user", field=field)
    return user


def _view(session: Session, user: User) -> UserView:
    codes = {
        i.id: i.code
        for i in session.scalars(
            select(Instansi).where(
                Instansi.id.in_({m.instansi_id for m in user.memberships if m.instansi_id})
            )
        )
    }
    units = {
        u.id: u.code
        for u in session.scalars(
            select(Unit).where(Unit.id.in_({m.unit_id for m in user.memberships if m.unit_id}))
        )
    }
    claimed = session.scalar(
        select(func.count())
        .select_from(HumanTask)
        .where(HumanTask.assignee_id == user.id, HumanTask.status == "open")
    )
    return UserView(
        user.id,
        user.username,
        user.full_name,
        user.email,
        user.active,
        [
            RoleGrant(m.role, codes.get(m.instansi_id or 0), units.get(m.unit_id or 0))
            for m in user.memberships
        ],
        int(claimed or 0),
    )


def own_instansi_code(session: Session, *, principal: Principal) -> str | None:
    """The code of the first instansi the principal administers (None: none, or national)."""
    ids = sorted(principal.administered())
    if not ids:
        return None
    with session.begin():
        return session.scalar(select(Instansi.code).where(Instansi.id == ids[0]))


def units_of(session: Session, *, principal: Principal, instansi_code: str) -> list[Unit]:
    """The units of an instansi the principal administers, by code."""
    _require_admin(principal)
    with session.begin():
        instansi = _instansi(session, principal, instansi_code, "instansi")
        rows = session.scalars(
            select(Unit).where(Unit.instansi_id == instansi.id).order_by(Unit.code)
        ).all()
        session.expunge_all()
        return list(rows)


def list_users(session: Session, *, principal: Principal, instansi_code: str) -> list[UserView]:
    """The staff holding a role in the instansi (or one of its units), by username."""
    _require_admin(principal)
    with session.begin():
        instansi = _instansi(session, principal, instansi_code, "instansi")
        users = session.scalars(
            select(User)
            .options(selectinload(User.memberships))
            .where(
                User.id.in_(
                    select(RoleMembership.user_id).where(RoleMembership.instansi_id == instansi.id)
                )
            )
            .order_by(User.username)
        ).all()
        return [_view(session, u) for u in users]


def _check_grants(session: Session, principal: Principal, grants: Sequence[RoleGrant]) -> None:
    if not grants:
        raise InvalidInput("give the user at least one role", field="roles")
    for grant in grants:
        if grant.role not in ROLES:
            raise InvalidInput(f"unknown role '{grant.role[:32]}'", field="roles")
        if grant.role in NATIONAL_ROLES or grant.instansi_code is None:
            if not _national(principal):
                raise Forbidden("only national admins grant national roles", field="roles")
            if grant.role not in NATIONAL_ROLES and grant.role != "process_designer":
                raise InvalidInput(f"role '{grant.role}' needs an instansi", field="roles")
            continue
        instansi = _instansi(session, principal, grant.instansi_code, "roles")
        if grant.role in UNIT_ROLES and not grant.unit_code:
            raise InvalidInput(f"role '{grant.role}' needs a unit", field="roles")
        if grant.unit_code:
            unit = session.scalar(select(Unit).where(Unit.code == grant.unit_code[:64]))
            if unit is None or unit.instansi_id != instansi.id:
                raise InvalidInput(
                    f"no unit '{grant.unit_code[:64]}' in instansi '{instansi.code}'",
                    field="roles",
                )


def create_user(
    session: Session,
    *,
    principal: Principal,
    username: str,
    full_name: str,
    password: str,
    email: str | None = None,
    roles: Sequence[RoleGrant],
) -> UserView:
    """A new staff user with `roles`; the admin hands over the first password."""
    _require_admin(principal)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"the password needs at least {MIN_PASSWORD} characters", field="password"
        )
    with session.begin():
        _check_grants(session, principal, roles)
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"the username '{username}' is taken", field="username")
        user = auth.create_user(
            session,
            username=username,
            full_name=full_name,
            email=email,
            password=password,
            roles=[(g.role, g.instansi_code, g.unit_code) for g in roles],
        )
        audit.record(
            session,
            actor=principal.actor,
            action="user.created",
            data={"user_id": user.id, "roles": [g.role for g in roles]},
        )
        return _view(session, user)


def deactivate(session: Session, *, principal: Principal, user_id: int) -> UserView:
    """Close the account: its sessions end and the tasks it had claimed go back to its team."""
    _require_admin(principal)
    with session.begin():
        user = _user(session, principal, user_id)
        if user.id == principal.user_id:
            raise Conflict("you cannot deactivate yourself", field="user_id")
        now = clock.now()
        user.active = False
        session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        claimed = session.scalars(
            select(HumanTask).where(HumanTask.assignee_id == user.id, HumanTask.status == "open")
        ).all()
        for task in claimed:
            task.assignee_id, task.claimed_at = None, None
        released = len(claimed)
        audit.record(
            session,
            actor=principal.actor,
            action="user.deactivated",
            data={"user_id": user.id, "released_tasks": released},
        )
        return _view(session, user)


def _eligible(colleague: User, task: HumanTask) -> bool:
    """Whether the colleague holds the task's role where the task is offered."""
    return any(
        m.role == task.role
        and (task.role == NATIONAL_ADMIN or m.instansi_id == task.instansi_id)
        and (m.unit_id is None or m.unit_id == task.unit_id)
        for m in colleague.memberships
    )


def delegate_tasks(
    session: Session, *, principal: Principal, from_user_id: int, to_user_id: int
) -> tuple[int, int]:
    """Hand the open tasks claimed by one user (on leave) to a colleague who may do them;
    returns (moved, kept: tasks the colleague may not do, left with the user). A user may
    delegate their own tasks; admins those of the users they manage."""
    with session.begin():
        if from_user_id == principal.user_id and valid_id(from_user_id):
            source = session.scalar(
                select(User).options(selectinload(User.memberships)).where(User.id == from_user_id)
            )
            assert source is not None
        else:
            _require_admin(principal)
            source = _user(session, principal, from_user_id, "from_user_id")
        target = None
        if valid_id(to_user_id) and to_user_id != source.id:
            target = session.scalar(
                select(User).options(selectinload(User.memberships)).where(User.id == to_user_id)
            )
        if target is None or not target.active:
            raise NotFound("no such active colleague", field="to_user_id")
        moved = kept = 0
        now = clock.now()
        for task in session.scalars(
            select(HumanTask)
            .where(HumanTask.assignee_id == source.id, HumanTask.status == "open")
            .with_for_update()
        ):
            if _eligible(target, task):
                task.assignee_id, task.claimed_at = target.id, now
                moved += 1
            else:
                kept += 1
        audit.record(
            session,
            actor=principal.actor,
            action="tasks.delegated",
            data={"from_user_id": source.id, "to_user_id": target.id, "moved": moved, "kept": kept},
        )
        return moved, kept


def create_unit(
    session: Session, *, principal: Principal, instansi_code: str, code: str, name: str
) -> Unit:
    """A new unit of the instansi; its code starts with the instansi's (e.g. 34.04-DINKES)."""
    _require_admin(principal)
    with session.begin():
        instansi = _instansi(session, principal, instansi_code, "instansi")
        if not code.startswith(f"{instansi.code}-") or len(code) > 64:
            raise InvalidInput(
                f"a unit code starts with '{instansi.code}-' (at most 64 characters)", field="code"
            )
        if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
            raise Conflict(f"the unit code '{code}' is taken", field="code")
        unit = Unit(instansi_id=instansi.id, code=code, name=name)
        session.add(unit)
        session.flush()
        audit.record(
            session,
            actor=principal.actor,
            action="unit.created",
            data={"instansi": instansi.code, "code": code, "name": name},
        )
        session.expunge(unit)
        return unit
