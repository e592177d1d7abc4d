"""Load the instansi registry (regions, central bodies, demo units) and demo staff users."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.models import Instansi, ProcessDefinition, Region, Report, Unit, User
from engine.services import auth

DATA = Path(__file__).with_name("data")
DEMO_PASSWORD = "lapor-demo-2026"  # noqa: S105  (demo accounts only, printed by make run)

# (username, full name, [(role, instansi code, unit code)])
DEMO_USERS: list[tuple[str, str, list[tuple[str, str | None, str | None]]]] = [
    ("nasional", "Admin Nasional KemenPANRB", [("admin_nasional", None, None)]),
    ("sleman", "Admin Kabupaten Sleman", [("admin_instansi", "34.04", None)]),
    (
        "sleman.pu",
        "Penghubung DPUPKP Sleman",
        [("pejabat_penghubung", None, "34.04-DPUPKP"), ("admin_unit", None, "34.04-DPUPKP")],
    ),
    ("diy", "Supervisor DI Yogyakarta", [("supervisor", "34", None)]),
    ("badung", "Admin Kabupaten Badung", [("admin_instansi", "51.03", None)]),
    ("kemenkes", "Admin Kementerian Kesehatan", [("admin_instansi", "KEMENKES", None)]),
    ("designer", "Perancang Proses Nasional", [("process_designer", None, None)]),
]


def _rows(name: str) -> Iterator[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def registry_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Instansi)))


def reports_exist(session: Session) -> bool:
    return session.scalar(select(Report.id).limit(1)) is not None


def processes_deployed(factory: sessionmaker) -> bool:
    with factory() as session:
        return session.scalar(select(ProcessDefinition.id).limit(1)) is not None


def load_registry(session: Session) -> None:
    """Insert regions, their governments, central instansi and demo units (caller commits)."""
    regions = list(_rows("regions.csv"))
    for row in regions:
        session.add(
            Region(
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                parent_code=row["parent_code"] or None,
                timezone=row["timezone"],
            )
        )
    session.flush()
    by_code: dict[str, Instansi] = {}
    for row in _rows("central_instansi.csv"):
        supervisor = by_code.get(row["supervisor_code"]) if row["supervisor_code"] else None
        by_code[row["code"]] = Instansi(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            timezone=row["timezone"],
            supervisor=supervisor,
        )
    kemendagri = by_code["KEMENDAGRI"]
    for row in regions:  # provinces come before their regencies (sorted by code)
        parent = by_code[row["parent_code"]] if row["parent_code"] else kemendagri
        name = row["name"] if row["kind"] != "provinsi" else f"Pemerintah Provinsi {row['name']}"
        by_code[row["code"]] = Instansi(
            code=row["code"],
            name=name,
            kind=row["kind"],
            timezone=row["timezone"],
            supervisor=parent,
            region_code=row["code"],
        )
    session.add_all(by_code.values())
    session.flush()
    for row in _rows("demo_units.csv"):
        session.add(
            Unit(instansi_id=by_code[row["instansi_code"]].id, code=row["code"], name=row["name"])
        )
    session.flush()


def load_demo_users(session: Session) -> list[str]:
    """Create the demo staff accounts that do not exist yet; returns their usernames."""
    created = []
    for username, full_name, roles in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            auth.create_user(
                session, username=username, full_name=full_name, password=DEMO_PASSWORD, roles=roles
            )
            created.append(username)
    return created
