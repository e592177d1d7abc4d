"""Who may administer service levels, and which instansi an admin change reaches.

Shared by the admin services (`sla.admin_calendar`, `sla.admin_policies`, `sla.admin_webhooks`,
`sla.admin_outbox`): national admins may change everything; an `admin_instansi` only what
belongs to their own instansi; operators see and re-send the delivery outbox. A refusal is
`Forbidden` naming the field `role` (these are registry settings, not per-report resources, so
their existence is no secret); an unknown instansi is `NotFound` naming the request's field.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.errors import Forbidden, NotFound
from engine.models import Instansi
from engine.services.auth import Principal
from engine.text import check_storable
from sla import deadlines

NATIONAL, INSTANSI_ADMIN, OPERATOR = "admin_nasional", "admin_instansi", "operator"
ADMINS = (NATIONAL, INSTANSI_ADMIN)
MAX_CODE = 32


def is_national(principal: Principal) -> bool:
    return NATIONAL in principal.roles()


def administers(principal: Principal, instansi_id: int) -> bool:
    """Whether the principal is an `admin_instansi` of exactly this instansi."""
    return instansi_id in principal.administered()


def administered(principal: Principal) -> set[int]:
    """The instansi the principal is `admin_instansi` of."""
    return principal.administered()


def require_role(principal: Principal, roles: tuple[str, ...], action: str) -> None:
    """Refuse, before touching the database, anyone holding none of `roles`."""
    if not principal.roles() & set(roles):
        raise Forbidden(f"only {' or '.join(roles)} may {action}", field="role")


def require_admin_of(principal: Principal, instansi: Instansi | None, action: str) -> None:
    """National admins may act everywhere; an instansi's own admin on that instansi only.
    `instansi=None` is the national level: national admins only."""
    if is_national(principal):
        return
    if instansi is None:
        raise Forbidden(f"only national admins may {action} nationally", field="role")
    if not administers(principal, instansi.id):
        raise Forbidden(f"only admins of {instansi.code} may {action} for it", field="role")


def find_instansi(session: Session, code: object, field: str) -> Instansi:
    """The active instansi with this code, or NotFound naming `field`."""
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise NotFound(f"unknown instansi '{code}'", field=field)
    check_storable(code, field)
    found = session.scalar(select(Instansi).where(Instansi.code == code))
    if found is None or not found.active:
        raise NotFound(f"unknown instansi '{code}'", field=field)
    return found


def code_of(session: Session, instansi_id: int | None) -> str | None:
    if instansi_id is None:
        return None
    found = session.get(Instansi, instansi_id)
    return found.code if found is not None else None


def region_instansi_ids(session: Session, region_code: str) -> set[int]:
    """Every instansi of the region and of the regions inside it (`34` -> `34`, `34.04` ...)."""
    stmt = select(Instansi.id).where(
        or_(
            Instansi.region_code == region_code,
            Instansi.region_code.startswith(f"{region_code}.", autoescape=True),
        )
    )
    return set(session.scalars(stmt))


def subtree_ids(session: Session, instansi_id: int) -> set[int]:
    """The instansi and every instansi it supervises, directly or further down the tree
    (they inherit its SLA policies)."""
    children: dict[int, list[int]] = {}
    for child, parent in session.execute(select(Instansi.id, Instansi.supervisor_id)):
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, stack = {instansi_id}, [instansi_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def replan(session: Session, instansi_ids: set[int] | None) -> int:
    """Recompute the open tasks of these instansi (None: all); returns how many due moments
    moved. National tasks carry no instansi but count on KemenPANRB's calendar, so a change
    that reaches KemenPANRB recomputes every open task."""
    if instansi_ids is not None:
        if not instansi_ids:
            return 0
        if deadlines.national_instansi(session).id in instansi_ids:
            instansi_ids = None
    return deadlines.replan_open_tasks(session, instansi_ids=instansi_ids)
