"""`lapor user create`: a staff account from the command line (the first national admin of a new
deployment, or an account an operator must add without the web pages).

The password is never a command-line argument (it would stay in the shell history and show in
`ps`): it is asked twice at a hidden prompt, or read from the first line of standard input with
`--password-stdin`. The input is checked as the admin API checks it (its schema, the same role
rules); the new account is audited with the actor `cli`. Bad input exits with status 2 naming
the option; a taken username with status 1.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas.staff_admin import UserCreateSchema
from engine.errors import Conflict, DomainError, InvalidInput
from engine.models import Instansi, Unit, User
from engine.models.users import ROLES, UNIT_ROLES
from engine.services import audit, auth
from engine.services.staff_admin import NATIONAL_ROLES

OPTIONS = {  # schema field -> what the user typed it as
    "username": "USERNAME",
    "full_name": "--name",
    "email": "--email",
    "password": "password",
    "roles": "--role",
}
CLI_ACTOR = "cli"


def parse_role(text: str) -> dict[str, str | None]:
    """`ROLE`, `ROLE:INSTANSI` or `ROLE:INSTANSI:UNIT` as the admin API's role grant."""
    parts = text.split(":")
    if len(parts) > 3 or not parts[0]:
        raise click.BadParameter(
            f"'{text}' is not ROLE[:INSTANSI[:UNIT]], e.g. admin_instansi:34.04",
            param_hint="'--role'",
        )
    role, instansi, unit = (parts + [None, None])[:3]
    return {"role": role, "instansi_code": instansi or None, "unit_code": unit or None}


def check_grants(grants: list[dict[str, str | None]]) -> None:
    """The role rules national admins work under (engine.services.staff_admin): national roles
    have no instansi, the others need one, unit roles need a unit."""
    for grant in grants:
        role = str(grant["role"])
        if role not in ROLES:
            raise InvalidInput(f"unknown role '{role}' ({', '.join(ROLES)})", field="roles")
        if role in NATIONAL_ROLES and grant["instansi_code"]:
            raise InvalidInput(f"role '{role}' is national: give no instansi", field="roles")
        if role not in NATIONAL_ROLES and role != "process_designer" and not grant["instansi_code"]:
            raise InvalidInput(f"role '{role}' needs an instansi (ROLE:INSTANSI)", field="roles")
        if role in UNIT_ROLES and not grant["unit_code"]:
            raise InvalidInput(f"role '{role}' needs a unit (ROLE:INSTANSI:UNIT)", field="roles")


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.BadParameter("standard input held no password", param_hint="password")
        return line
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="the person's full name")
@click.option("--email", default=None, help="for password resets and alerts")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE[:INSTANSI[:UNIT]]",
    help="repeatable; e.g. admin_nasional, admin_instansi:34.04, "
    "pejabat_penghubung:34.04:34.04-DPUPKP",
)
@click.option(
    "--password-stdin", is_flag=True, help="read the password from standard input's first line"
)
def create(
    username: str, full_name: str, email: str | None, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create staff user USERNAME; the password is prompted for (or read from stdin)."""
    from api.cli import _sessions, _settings  # here, so api.cli may import this module freely

    grants = [parse_role(text) for text in roles]
    password = read_password(password_stdin)
    try:
        data = UserCreateSchema().load(
            {
                "username": username,
                "full_name": full_name,
                "email": email,
                "password": password,
                "roles": grants,
            }
        )
        check_grants(grants)
    except ValidationError as exc:
        name, messages = next(iter(exc.normalized_messages().items()))
        raise click.BadParameter(_first(messages), param_hint=f"'{OPTIONS[name]}'") from None
    except InvalidInput as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{OPTIONS['roles']}'") from None
    settings = _settings()
    auth.configure_hasher(
        time_cost=settings.ARGON2_TIME_COST, memory_cost=settings.ARGON2_MEMORY_COST
    )
    with _sessions(settings.DATABASE_URL) as factory, factory() as session:
        try:
            with session.begin():
                user_id = _create(session, data, grants)
                audit.record(
                    session,
                    actor=CLI_ACTOR,
                    action="user.created",
                    data={"user_id": user_id, "roles": [g["role"] for g in grants]},
                )
        except InvalidInput as exc:
            option = OPTIONS.get(exc.field or "", "--role")
            raise click.BadParameter(exc.message, param_hint=f"'{option}'") from None
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    shown = ", ".join(text for text in roles)
    click.echo(f"created user {data['username']} (id {user_id}) with roles {shown}")


def _first(messages: object) -> str:
    """The first message of a marshmallow error (they nest by field and index)."""
    while isinstance(messages, dict | list):
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)


def _create(session: Session, data: dict[str, Any], grants: list[dict[str, str | None]]) -> int:
    """The user row and its memberships, in the caller's transaction; returns its id."""
    username = str(data["username"])
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username '{username}' is taken", field="username")
    for grant in grants:
        if grant["unit_code"]:
            unit = session.scalar(select(Unit).where(Unit.code == grant["unit_code"]))
            instansi = session.scalar(
                select(Instansi).where(Instansi.code == grant["instansi_code"])
            )
            if unit is None or instansi is None or unit.instansi_id != instansi.id:
                raise InvalidInput(
                    f"no unit '{grant['unit_code']}' in instansi '{grant['instansi_code']}'",
                    field="roles",
                )
    created = auth.create_user(
        session,
        username=username,
        full_name=str(data["full_name"]),
        email=data.get("email"),
        password=str(data["password"]),
        roles=[(str(g["role"]), g["instansi_code"], g["unit_code"]) for g in grants],
    )
    return created.id
