"""Admin changes to an instansi's office hours, which hour-based (`wh`) deadlines count in.

An instansi without its own row works the default 08:00-16:00 (`sla.calendar.DEFAULT_OPENS`,
`DEFAULT_CLOSES`), in its own time zone, on its working days. `set_hours` stores `HH:MM` opening
and closing times (opening before closing, 1 to 16 hours apart); `reset_hours` deletes the row,
so the default applies again (a reset of an instansi already on the default changes nothing and
records nothing).

Each change is one transaction: the `office_hours` row, the recomputed due moments of the
instansi's open tasks (`sla.admin.replan`: KemenPANRB's hours also reach the national tasks) and
an audit event with the old and new hours and how many due moments moved. National admins may
change any instansi's hours; an `admin_instansi` only their own. Seeing them needs the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import Instansi
from engine.services import audit
from engine.services.auth import Principal
from sla import admin
from sla.calendar import DEFAULT_CLOSES, DEFAULT_OPENS
from sla.models import OfficeHours

HHMM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
MIN_MINUTES, MAX_MINUTES = 60, 16 * 60  # how long an office day may be
DEFAULT_OPENS_TEXT = DEFAULT_OPENS.strftime("%H:%M")
DEFAULT_CLOSES_TEXT = DEFAULT_CLOSES.strftime("%H:%M")


@dataclass(frozen=True)
class HoursView:
    """An instansi's effective office hours, local to its time zone."""

    instansi_code: str
    timezone: str
    opens: str  # HH:MM
    closes: str  # HH:MM
    default: bool  # True: no hours of its own, the default applies


def _view(instansi: Instansi, row: OfficeHours | None) -> HoursView:
    if row is None:
        return HoursView(
            instansi.code, instansi.timezone, DEFAULT_OPENS_TEXT, DEFAULT_CLOSES_TEXT, True
        )
    return HoursView(instansi.code, instansi.timezone, row.opens, row.closes, False)


def _terms(view: HoursView) -> dict[str, Any]:
    return {"opens": view.opens, "closes": view.closes, "default": view.default}


def _time(name: str, value: object) -> tuple[str, int]:
    """An `HH:MM` value and its minutes after midnight, or InvalidInput naming `name`."""
    if not isinstance(value, str) or HHMM.fullmatch(value) is None:
        raise InvalidInput(f"{name} must be a time of day as HH:MM, e.g. 07:30", field=name)
    hours, minutes = value.split(":")
    return value, int(hours) * 60 + int(minutes)


def check_hours(opens: object, closes: object) -> tuple[str, str]:
    """The hours if valid: `HH:MM` each, opening before closing, 1 to 16 hours apart."""
    (opens_text, start), (closes_text, end) = _time("opens", opens), _time("closes", closes)
    if end <= start:
        raise InvalidInput("closes must be later than opens", field="closes")
    if not MIN_MINUTES <= end - start <= MAX_MINUTES:
        raise InvalidInput(
            f"office hours must last {MIN_MINUTES // 60} to {MAX_MINUTES // 60} hours",
            field="closes",
        )
    return opens_text, closes_text


def _locked_instansi(
    session: Session, instansi_code: object, action: str, principal: Principal
) -> Instansi:
    """The instansi, checked against the principal, its row locked (FOR NO KEY UPDATE on
    PostgreSQL) so concurrent changes of its hours run one after the other instead of racing
    to insert the same `office_hours` row."""
    instansi = admin.find_instansi(session, instansi_code, "instansi_code")
    admin.require_admin_of(principal, instansi, action)
    session.execute(
        select(Instansi.id).where(Instansi.id == instansi.id).with_for_update(key_share=True)
    )
    return instansi


def _record(
    session: Session,
    principal: Principal,
    action: str,
    previous: HoursView,
    current: HoursView,
    moved: int,
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=action,
        data={
            "instansi_code": current.instansi_code,
            **_terms(current),
            "previous": _terms(previous),
            "moved": moved,
        },
    )


def get_hours(session: Session, *, principal: Principal, instansi_code: str) -> HoursView:
    """The instansi's effective office hours, and whether they are the default."""
    admin.require_role(principal, admin.ADMINS, "see office hours")
    with session.begin():
        instansi = admin.find_instansi(session, instansi_code, "instansi_code")
        admin.require_admin_of(principal, instansi, "see office hours")
        return _view(instansi, session.get(OfficeHours, instansi.id))


def set_hours(
    session: Session, *, principal: Principal, instansi_code: str, opens: str, closes: str
) -> tuple[HoursView, int]:
    """Give the instansi its own office hours; returns them and how many open due moments
    moved."""
    admin.require_role(principal, admin.ADMINS, "set office hours")
    opens, closes = check_hours(opens, closes)
    with session.begin():
        instansi = _locked_instansi(session, instansi_code, "set office hours", principal)
        row = session.get(OfficeHours, instansi.id)
        previous = _view(instansi, row)
        if row is None:
            row = OfficeHours(instansi_id=instansi.id)
            session.add(row)
        row.opens, row.closes = opens, closes
        session.flush()
        moved = admin.replan(session, {instansi.id})
        view = _view(instansi, row)
        _record(session, principal, "office_hours.set", previous, view, moved)
    return view, moved


def reset_hours(
    session: Session, *, principal: Principal, instansi_code: str
) -> tuple[HoursView, int]:
    """Back to the default office hours; returns them and how many open due moments moved."""
    admin.require_role(principal, admin.ADMINS, "reset office hours")
    with session.begin():
        instansi = _locked_instansi(session, instansi_code, "reset office hours", principal)
        row = session.get(OfficeHours, instansi.id)
        view = _view(instansi, None)
        if row is None:
            return view, 0
        previous = _view(instansi, row)
        session.delete(row)
        session.flush()
        moved = admin.replan(session, {instansi.id})
        _record(session, principal, "office_hours.reset", previous, view, moved)
    return view, moved
