"""Read the registry for pickers: regions (province, then regency/city) and instansi search.

Used by the citizen filing page, the national verification queue (routing) and the public
`/api/v1/regions` and `/api/v1/instansi` endpoints. Searches match words of the name or the
code, case-insensitively, and are bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import Instansi, Region

MAX_QUERY, MAX_RESULTS = 100, 50


@dataclass(frozen=True)
class RegionView:
    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True)
class InstansiView:
    code: str
    name: str
    kind: str
    region_code: str | None
    supervisor_code: str | None


def regions(session: Session, *, parent_code: str | None = None) -> list[RegionView]:
    """Provinces (no parent), or the regencies and cities of one province, by name."""
    if parent_code is not None and len(parent_code) > 16:
        raise InvalidInput("at most 16 characters", field="parent")
    with session.begin():
        condition = (
            Region.parent_code.is_(None)
            if parent_code is None
            else Region.parent_code == parent_code
        )
        rows = session.scalars(select(Region).where(condition).order_by(Region.name))
        return [RegionView(r.code, r.name, r.kind, r.parent_code) for r in rows]


def _words(query: str) -> list[str]:
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"at most {MAX_QUERY} characters", field="q")
    return [w for w in query.lower().split() if w][:8]


def search_instansi(
    session: Session, *, query: str = "", region_code: str | None = None, limit: int = 20
) -> list[InstansiView]:
    """Active instansi whose name or code contains every word of `query` (all when empty),
    optionally in a region (a province also finds the instansi of its regencies)."""
    limit = max(1, min(limit, MAX_RESULTS))
    statement = select(Instansi).where(Instansi.active.is_(True))
    for word in _words(query):
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        statement = statement.where(
            or_(func.lower(Instansi.name).like(pattern), func.lower(Instansi.code).like(pattern))
        )
    if region_code:
        if len(region_code) > 16:
            raise InvalidInput("at most 16 characters", field="region")
        statement = statement.where(
            or_(Instansi.region_code == region_code, Instansi.region_code.like(f"{region_code}.%"))
        )
    with session.begin():
        rows = session.scalars(
            statement.order_by(func.length(Instansi.name), Instansi.name).limit(limit)
        ).all()
        return [
            InstansiView(
                i.code,
                i.name,
                i.kind,
                i.region_code,
                i.supervisor.code if i.supervisor is not None else None,
            )
            for i in rows
        ]
