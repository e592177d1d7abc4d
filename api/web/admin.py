"""Administration pages for admins (national, or of an instansi): the working-day calendar and
SLA policies. The `sla.admin_*` services decide who may change what; these pages only show
their answers, with each form's errors next to its fields."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from api.db import db
from api.schemas.sla_admin import CalendarDaySchema, PolicySetSchema
from api.web.forms import load_form
from api.web.pages import add_nav_link, page_blueprint, staff_form, staff_or_login
from api.web.refusals import refusal
from engine import clock
from engine.errors import DomainError
from sla import admin_calendar, admin_policies
from sla.admin import ADMINS
from sla.calendar import ADJUSTMENT_KINDS
from sla.calendar_service import FIRST_YEAR, LAST_YEAR
from sla.policies import MILESTONES, WORKING_DAYS, WORKING_HOURS

blp = page_blueprint("admin_pages", __name__)
add_nav_link(
    "admin_pages.calendar",
    lambda: str(lazy_gettext("Kalender kerja")),
    roles=frozenset(ADMINS),
    order=40,
)
add_nav_link(
    "admin_pages.policies",
    lambda: str(lazy_gettext("Kebijakan SLA")),
    roles=frozenset(ADMINS),
    order=40,
)

DAY_FIELDS = ["day", "kind", "reason", "region_code", "instansi_code"]
POLICY_FIELDS = [
    "milestone",
    "duration",
    "unit",
    "reminder",
    "escalation_every",
    "instansi",
    "classification",
]
POLICY_NUMBERS = frozenset({"duration", "reminder", "escalation_every"})


def _refused(error: DomainError, shown: list[str] | None = None) -> dict[str, str]:
    """A service's refusal in the page's language (by its code, never the service's English),
    next to the field it names when the form shows that field, else above the form."""
    field = error.field if error.field in (shown or []) else "_form"
    return {field: refusal(error)}


def source_label(source: str) -> str:
    """Where an effective policy comes from, in the page's language."""
    capped = source.endswith(", capped at the national maximum")
    base = source.removesuffix(", capped at the national maximum")
    if base == "national default":
        label = _("bawaan nasional")
    elif base == "national policy":
        label = _("kebijakan nasional")
    elif base == "SOP property":
        label = _("properti SOP")
    elif base.startswith("policy of "):
        label = _("kebijakan instansi %(code)s", code=base.removeprefix("policy of "))
    else:
        label = base
    return _("%(label)s, dibatasi maksimum nasional", label=label) if capped else label


def unit_label(unit: str) -> str:
    return _("hari kerja") if unit == WORKING_DAYS else _("jam kantor")


def _year() -> int:
    asked = request.args.get("tahun", "")
    year = int(asked) if asked.isdigit() else clock.now().year
    return min(max(year, FIRST_YEAR), LAST_YEAR)


def _calendar_page(
    principal: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    year = _year()
    instansi = request.args.get("instansi") or None
    try:
        days = admin_calendar.list_adjustments(
            db.session(), principal=principal, year=year, instansi_code=instansi
        )
    except DomainError as exc:
        days, errors = [], {**(errors or {}), **_refused(exc)}
        status = max(status, exc.status)
    return Response(
        render_template(
            "admin/calendar.html",
            year=year,
            years=range(FIRST_YEAR, LAST_YEAR + 1),
            instansi=instansi or "",
            days=days,
            kinds=ADJUSTMENT_KINDS,
            errors=errors or {},
            values=values or {},
            moved=request.args.get("moved"),
            done=request.args.get("done"),
        ),
        status=status,
    )


@blp.get("/admin/kalender")
def calendar() -> Response:
    staff = staff_or_login(*ADMINS)
    if isinstance(staff, Response):
        return staff
    return _calendar_page(staff[0])


@blp.post("/admin/kalender")
def calendar_add() -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    data, errors, values = load_form(CalendarDaySchema(), DAY_FIELDS)
    if data is None:
        return _calendar_page(staff[0], status=422, errors=errors, values=values)
    try:
        adjustment, moved = admin_calendar.add_day(db.session(), principal=staff[0], **data)
    except DomainError as exc:
        return _calendar_page(
            staff[0], status=exc.status, errors=_refused(exc, DAY_FIELDS), values=values
        )
    return redirect(  # type: ignore[return-value]
        url_for(".calendar", tahun=adjustment.day.year, done="added", moved=moved), code=303
    )


@blp.post("/admin/kalender/<int:adjustment_id>/hapus")
def calendar_remove(adjustment_id: int) -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    try:
        adjustment, moved = admin_calendar.remove_day(
            db.session(), principal=staff[0], adjustment_id=adjustment_id
        )
    except DomainError as exc:
        return _calendar_page(staff[0], status=exc.status, errors=_refused(exc))
    return redirect(  # type: ignore[return-value]
        url_for(".calendar", tahun=adjustment.day.year, done="removed", moved=moved), code=303
    )


def _policies_page(
    principal: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    instansi = request.args.get("instansi") or None
    try:
        listing = admin_policies.list_policies(
            db.session(), principal=principal, instansi_code=instansi
        )
    except DomainError as exc:
        listing, errors = None, {**(errors or {}), **_refused(exc)}
        status = max(status, exc.status)
    from engine.models.reports import CLASSIFICATIONS

    return Response(
        render_template(
            "admin/policies.html",
            source_label=source_label,
            unit_label=unit_label,
            instansi=instansi or "",
            listing=listing,
            milestones=MILESTONES,
            units=(WORKING_DAYS, WORKING_HOURS),
            classifications=CLASSIFICATIONS,
            errors=errors or {},
            values=values or {},
            moved=request.args.get("moved"),
            done=request.args.get("done"),
        ),
        status=status,
    )


@blp.get("/admin/sla")
def policies() -> Response:
    staff = staff_or_login(*ADMINS)
    if isinstance(staff, Response):
        return staff
    return _policies_page(staff[0])


@blp.post("/admin/sla")
def policies_set() -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    data, errors, values = load_form(PolicySetSchema(), POLICY_FIELDS, POLICY_NUMBERS)
    if data is None:
        return _policies_page(staff[0], status=422, errors=errors, values=values)
    data["instansi_code"] = data.pop("instansi")
    try:
        _policy, moved = admin_policies.set_policy(db.session(), principal=staff[0], **data)
    except DomainError as exc:
        return _policies_page(
            staff[0],
            status=exc.status,
            errors=_refused(exc, [f for f in POLICY_FIELDS if f != "instansi"]),
            values=values,
        )
    return redirect(  # type: ignore[return-value]
        url_for(".policies", instansi=data["instansi_code"], done="set", moved=moved), code=303
    )


@blp.post("/admin/sla/<int:policy_id>/hapus")
def policies_delete(policy_id: int) -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    try:
        policy, moved = admin_policies.delete_policy(
            db.session(), principal=staff[0], policy_id=policy_id
        )
    except DomainError as exc:
        return _policies_page(staff[0], status=exc.status, errors=_refused(exc))
    return redirect(  # type: ignore[return-value]
        url_for(".policies", instansi=policy.instansi_code, done="deleted", moved=moved), code=303
    )
