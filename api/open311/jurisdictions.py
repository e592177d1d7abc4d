"""`jurisdiction_id`: an instansi or a region, by its code.

An active instansi's code wins (`KEMENKES`, or `34.04`, Kabupaten Sleman, whose government
carries its region's code); a region with no active instansi of its code stands alone. Reading,
a jurisdiction holds the reports its instansi currently handles and the reports located in its
region or the regions inside it (a province holds its regencies' reports). Filing, it names the
target instansi and the region, and an API key may file to it only when the key's instansi is
the jurisdiction's instansi or supervises it (a province for its regencies, KemenPANRB at the
top), or, for a region alone, governs that region or one around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import Instansi, Region, Report
from sla.deadlines import NATIONAL_CODE

MAX_CODE = 32
MAX_SUPERVISION_DEPTH = 16  # a supervisor chain is a handful of links; guards against cycles


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    instansi: Instansi | None
    region: Region | None


def resolve(session: Session, code: str) -> Jurisdiction:
    """The jurisdiction of `code`; an unknown one is NotFound (`jurisdiction_id`)."""
    code = code.strip()
    if len(code) <= MAX_CODE:
        instansi = session.scalar(
            select(Instansi).where(Instansi.code == code, Instansi.active.is_(True))
        )
        if instansi is not None:
            region = session.get(Region, instansi.region_code) if instansi.region_code else None
            return Jurisdiction(code, instansi, region)
        region = session.get(Region, code)
        if region is not None:
            return Jurisdiction(code, None, region)
    raise NotFound(f"no instansi or region with code '{code[:MAX_CODE]}'", field="jurisdiction_id")


def check(session: Session, code: str) -> None:
    """Raise NotFound unless `code` names a jurisdiction (its own transaction)."""
    with session.begin():
        resolve(session, code)


def within(region_code: str, outer: str) -> bool:
    """Whether region `region_code` is `outer` or lies inside it (`34.04` inside `34`)."""
    return region_code == outer or region_code.startswith(f"{outer}.")


def region_clause(code: str) -> Any:
    return or_(Report.region_code == code, Report.region_code.like(f"{code}.%"))


def reports_clause(jurisdiction: Jurisdiction) -> Any:
    """Reports of the jurisdiction: handled by its instansi, or located in its region."""
    parts = []
    if jurisdiction.instansi is not None:
        parts.append(Report.current_instansi_id == jurisdiction.instansi.id)
    if jurisdiction.region is not None:
        parts.append(region_clause(jurisdiction.region.code))
    return or_(*parts) if parts else false()


def supervises(session: Session, supervisor_id: int, instansi: Instansi) -> bool:
    """Whether `supervisor_id` is `instansi` or one of its supervisors, up the chain."""
    current: Instansi | None = instansi
    for _ in range(MAX_SUPERVISION_DEPTH):
        if current is None:
            return False
        if current.id == supervisor_id:
            return True
        current = session.get(Instansi, current.supervisor_id) if current.supervisor_id else None
    return False


def may_file(session: Session, instansi_id: int, jurisdiction: Jurisdiction) -> bool:
    """Whether an API key of instansi `instansi_id` may file reports to `jurisdiction`."""
    if jurisdiction.instansi is not None:
        return supervises(session, instansi_id, jurisdiction.instansi)
    keyholder = session.get(Instansi, instansi_id)
    if keyholder is None or jurisdiction.region is None:
        return False
    if keyholder.code == NATIONAL_CODE:
        return True
    return keyholder.region_code is not None and within(
        jurisdiction.region.code, keyholder.region_code
    )
