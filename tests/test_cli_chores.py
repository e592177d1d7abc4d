"""The operator's chores through the one `lapor` command, run by click's CliRunner against the
test database: staff accounts, calendar days (one by one and from an iCalendar file), the audit
check, BPMN lint and deploy, and every chore being registered."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from sqlalchemy import delete, select, update

from api import logs
from api.cli import main
from engine.models import AuthToken, Instansi, RoleMembership, Unit, User
from engine.models.audit import AuditEvent
from engine.services import auth, reports
from sla.models import CalendarAdjustment
from tests.helpers import REPORT

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "kata-sandi-operator-2026"
NEW_USERS = ("operator.cli", "penghubung.cli", "prompted.cli")
ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Pemda Sleman//Libur Daerah//ID
BEGIN:VEVENT
UID:hari-jadi-sleman-2027@slemankab.go.id
DTSTART;VALUE=DATE:20270515
DTEND;VALUE=DATE:20270516
SUMMARY:Hari Jadi Kabupaten Sleman
END:VEVENT
BEGIN:VEVENT
UID:cuti-daerah-2027@slemankab.go.id
DTSTART;VALUE=DATE:20270603
DTEND;VALUE=DATE:20270605
SUMMARY:Cuti bersama daerah
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture()
def lapor(database_url: str, tmp_path: Path, monkeypatch: Any) -> Iterator[Any]:
    """Run `lapor ARGS...` on the test database; logging is put back afterwards."""
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    monkeypatch.setenv("LAPOR_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("LAPOR_ARGON2_MEMORY_COST", "8")
    monkeypatch.setenv("LAPOR_AUDIT_ANCHOR_PATH", str(tmp_path / "anchor.jsonl"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in logs.QUIET}
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=stdin)

    yield run
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    auth.configure_hasher(time_cost=1, memory_cost=8)


@pytest.fixture()
def new_users(factory: Any) -> Iterator[None]:
    yield
    with factory() as s, s.begin():
        ids = select(User.id).where(User.username.in_(NEW_USERS))
        s.execute(delete(AuthToken).where(AuthToken.user_id.in_(ids)))
        s.execute(delete(RoleMembership).where(RoleMembership.user_id.in_(ids)))
        s.execute(delete(User).where(User.username.in_(NEW_USERS)))


def grants_of(factory: Any, username: str) -> tuple[User, set[tuple[str, str | None, str | None]]]:
    with factory() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        found = set()
        for m in user.memberships:
            instansi = s.get(Instansi, m.instansi_id) if m.instansi_id else None
            unit = s.get(Unit, m.unit_id) if m.unit_id else None
            found.add((m.role, instansi.code if instansi else None, unit.code if unit else None))
        s.expunge(user)
        return user, found


def test_every_chore_is_one_lapor_command(lapor: Any) -> None:
    tree = {name: getattr(command, "commands", {}) for name, command in main.commands.items()}
    assert {"db", "seed", "bpmn", "scheduler", "user", "calendar", "audit", "export"} <= set(tree)
    assert {"upgrade"} <= set(tree["db"])
    assert {"deploy", "lint"} <= set(tree["bpmn"])
    assert {"create"} <= set(tree["user"])
    assert {"add", "remove", "import", "list"} <= set(tree["calendar"])
    assert {"verify"} <= set(tree["audit"])
    for args in (["--help"], ["export", "--help"], ["calendar", "import", "--help"]):
        assert lapor(*args).exit_code == 0, args
    upgraded = lapor("db", "upgrade")
    assert upgraded.exit_code == 0 and "database at revision" in upgraded.output


def test_user_create_reads_the_password_from_stdin_and_hashes_it_with_argon2(
    lapor: Any, factory: Any, new_users: None
) -> None:
    created = lapor(
        "user",
        "create",
        "operator.cli",
        "--name",
        "Operator CLI",
        "--email",
        "operator@lapor.test",
        "--role",
        "admin_instansi:34.04",
        "--role",
        "supervisor:34",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert "created user operator.cli" in created.output
    assert PASSWORD not in created.output
    user, grants = grants_of(factory, "operator.cli")
    assert grants == {("admin_instansi", "34.04", None), ("supervisor", "34", None)}
    assert user.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(user.password_hash, PASSWORD)
    with factory() as s:
        token, _row = auth.login(s, username="operator.cli", password=PASSWORD)
        assert token
        recorded = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.actor == "cli")
        )
        assert recorded is not None and recorded.data["user_id"] == user.id

    taken = lapor(
        "user",
        "create",
        "operator.cli",
        "--name",
        "Someone Else",
        "--role",
        "admin_nasional",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert taken.exit_code == 1 and "taken" in taken.output


def test_user_create_prompts_twice_and_places_unit_roles(
    lapor: Any, factory: Any, new_users: None
) -> None:
    with factory() as s:
        unit = s.scalar(select(Unit).where(Unit.code.like("34.04-%")))
        assert unit is not None
        unit_code = unit.code
    mismatch = lapor(
        "user",
        "create",
        "prompted.cli",
        "--name",
        "Petugas",
        "--role",
        f"pejabat_penghubung:34.04:{unit_code}",
        stdin=f"{PASSWORD}\nsomething-else-entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output.lower()
    _user, grants = grants_of(factory, "prompted.cli")
    assert grants == {("pejabat_penghubung", "34.04", unit_code)}


@pytest.mark.parametrize(
    ("args", "stdin", "named"),
    [
        (["--role", "kepala_dunia"], PASSWORD, "--role"),
        (["--role", "admin_instansi"], PASSWORD, "--role"),
        (["--role", "admin_nasional:34.04"], PASSWORD, "--role"),
        (["--role", "admin_instansi:34.04:NO-SUCH-UNIT:x"], PASSWORD, "--role"),
        (["--role", "pejabat_penghubung:34.04:NO-SUCH-UNIT"], PASSWORD, "--role"),
        (["--role", "admin_nasional", "--email", "not-an-email"], PASSWORD, "--email"),
        (["--role", "admin_nasional"], "", "password"),
        (["--role", "admin_nasional"], "short", "password"),
    ],
)
def test_user_create_refuses_bad_input_naming_the_option(
    lapor: Any, factory: Any, new_users: None, args: list[str], stdin: str, named: str
) -> None:
    refused = lapor(
        "user",
        "create",
        "penghubung.cli",
        "--name",
        "Petugas",
        *args,
        "--password-stdin",
        stdin=stdin + "\n",
    )
    assert refused.exit_code == 2, refused.output
    assert named in refused.output
    with factory() as s:
        assert s.scalar(select(User.id).where(User.username == "penghubung.cli")) is None


def adjustments(factory: Any) -> list[tuple[date, str, str | None, str | None]]:
    with factory() as s:
        rows = s.execute(
            select(
                CalendarAdjustment.day,
                CalendarAdjustment.kind,
                CalendarAdjustment.region_code,
                Instansi.code,
            )
            .outerjoin(Instansi, Instansi.id == CalendarAdjustment.instansi_id)
            .where(CalendarAdjustment.removed_at.is_(None))
            .order_by(CalendarAdjustment.day)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_calendar_add_list_and_remove_per_scope(lapor: Any, factory: Any) -> None:
    added = lapor("calendar", "add", "2027-05-15", "--reason", "Hari Jadi", "--instansi", "34.04")
    assert added.exit_code == 0, added.output
    assert "(instansi 34.04)" in added.output
    worked = ["calendar", "add", "2027-05-22", "--reason", "Sabtu pengganti", "--kind"]
    assert lapor(*worked, "working_day", "--region", "34").exit_code == 0
    national = lapor("calendar", "add", "2027-08-16", "--reason", "Cuti bersama")
    assert national.exit_code == 0, national.output
    assert adjustments(factory) == [
        (date(2027, 5, 15), "holiday", None, "34.04"),
        (date(2027, 5, 22), "working_day", "34", None),
        (date(2027, 8, 16), "holiday", None, None),
    ]
    again = lapor("calendar", "add", "2027-05-15", "--reason", "Lagi", "--instansi", "34.04")
    assert again.exit_code == 2 and "already sets 2027-05-15" in again.output
    both = lapor(
        "calendar", "add", "2027-05-16", "--reason", "x", "--region", "34", "--instansi", "34.04"
    )
    assert both.exit_code == 2 and "not both" in both.output
    unknown = lapor("calendar", "add", "2027-05-16", "--reason", "x", "--instansi", "99.99")
    assert unknown.exit_code == 2 and "--instansi" in unknown.output

    listed = lapor("calendar", "list", "--year", "2027")
    assert listed.exit_code == 0 and "3 adjustment(s) in 2027" in listed.output

    wrong_scope = lapor("calendar", "remove", "2027-05-15", "--region", "34")
    assert wrong_scope.exit_code == 2 and "no adjustment sets 2027-05-15" in wrong_scope.output
    removed = lapor("calendar", "remove", "2027-05-15", "--instansi", "34.04")
    assert removed.exit_code == 0, removed.output
    with factory() as s:
        national_id = s.scalar(
            select(CalendarAdjustment.id).where(CalendarAdjustment.day == date(2027, 8, 16))
        )
    assert lapor("calendar", "remove", str(national_id)).exit_code == 0
    twice = lapor("calendar", "remove", str(national_id))
    assert twice.exit_code == 2 and "already removed" in twice.output
    assert adjustments(factory) == [(date(2027, 5, 22), "working_day", "34", None)]


def test_calendar_import_from_an_ics_file_is_idempotent(
    lapor: Any, factory: Any, tmp_path: Path
) -> None:
    ics = tmp_path / "libur-sleman-2027.ics"
    ics.write_text(ICS, encoding="utf-8")
    dry = lapor("calendar", "import", str(ics), "--instansi", "34.04", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would add 3 day(s)" in dry.output and adjustments(factory) == []

    imported = lapor("calendar", "import", str(ics), "--instansi", "34.04")
    assert imported.exit_code == 0, imported.output
    assert "added 3 day(s), skipped 0 (instansi 34.04)" in imported.output
    assert adjustments(factory) == [
        (date(2027, 5, 15), "holiday", None, "34.04"),
        (date(2027, 6, 3), "holiday", None, "34.04"),
        (date(2027, 6, 4), "holiday", None, "34.04"),
    ]
    with factory() as s:
        reasons = set(s.scalars(select(CalendarAdjustment.reason)))
    assert reasons == {"Hari Jadi Kabupaten Sleman", "Cuti bersama daerah"}
    again = lapor("calendar", "import", str(ics), "--instansi", "34.04")
    assert again.exit_code == 0 and "added 0 day(s), skipped 3" in again.output

    broken = tmp_path / "broken.ics"
    broken.write_text(ICS.replace("DTSTART;VALUE=DATE:20270515\n", ""), encoding="utf-8")
    refused = lapor("calendar", "import", str(broken), "--region", "34")
    assert refused.exit_code == 2 and "has no DTSTART" in refused.output
    assert len(adjustments(factory)) == 3  # nothing of the refused file was written


def test_audit_verify_names_an_edited_event(lapor: Any, factory: Any) -> None:
    with factory() as session:
        reports.create(session, data=REPORT)
    clean = lapor("audit", "verify", "--json")
    assert clean.exit_code == 0, clean.output
    document = json.loads(clean.stdout)
    assert document["clean"] is True and document["events"] >= 1
    with factory() as s, s.begin():
        first = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq).limit(1))
        s.execute(update(AuditEvent).where(AuditEvent.seq == first).values(actor="someone"))
    tampered = lapor("audit", "verify")
    assert tampered.exit_code == 1, tampered.output
    assert "problem(s)" in tampered.output


def test_bpmn_lint_and_deploy(lapor: Any) -> None:
    national = [str(p) for p in sorted((ROOT / "bpmn" / "national").glob("*.bpmn"))]
    linted = lapor("bpmn", "lint", *national)
    assert linted.exit_code == 0, linted.output
    deployed = lapor("bpmn", "deploy")
    assert deployed.exit_code == 0, deployed.output
    assert "intake v1" in deployed.output and "sop-default v1" in deployed.output
