"""What the officers' pages share: their blueprint and header links, who may open them, times in
the officer's own time zone, labels for numbers and sizes, service refusals in the visitor's
language, the 404 page, and where a task opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from flask import Response, g, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from api.db import db
from api.web.auth_pages import signed_in
from api.web.pages import add_nav_link, local_time, page_blueprint, staff_or_login
from api.web.refusals import refusal
from api.web.task_forms import translate_data
from engine.errors import Conflict, DomainError
from engine.services import officer_notes
from engine.services.auth import Principal

OFFICER_ROLES = ("admin_nasional", "admin_instansi", "admin_unit", "pejabat_penghubung")
NATIONAL = "admin_nasional"

blp = page_blueprint("officer", __name__)
add_nav_link("officer.inbox", lambda: _("Kotak tugas"), roles=frozenset(OFFICER_ROLES), order=20)
add_nav_link("officer.queue", lambda: _("Verifikasi"), roles=frozenset({NATIONAL}), order=20)


@blp.context_processor
def helpers() -> dict[str, Any]:
    return {"when": when, "days": days, "size": size, "data_text": translate_data}


def zone() -> str:
    """The time zone of the signed-in officer's instansi (WIB for national staff), once per
    request."""
    if "officer_zone" not in g:
        staff = signed_in()
        g.officer_zone = (
            officer_notes.time_zone(db.session(), principal=staff[0])
            if staff
            else officer_notes.HOME_ZONE
        )
    found: str = g.officer_zone
    return found


def when(moment: datetime | None) -> str:
    """`moment` in the officer's time zone, with its abbreviation (WIB, WITA or WIT)."""
    if moment is None:
        return ""
    return local_time(moment, zone(), "d MMM yyyy HH:mm")


def days(value: float | None) -> str:
    return "" if value is None else format_decimal(abs(value), "#,##0.#", locale=str(get_locale()))


def size(octets: int) -> str:
    """A file size for people: `850 B`, `12,3 KB`, `4,5 MB` (decimal separator of the language)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if octets >= scale:
            return f"{format_decimal(octets / scale, '#,##0.#', locale=str(get_locale()))} {unit}"
    return f"{octets} B"


def service_error(exc: DomainError) -> tuple[str, str]:
    """(field, message) for a refusal by the task service, in the visitor's language."""
    if isinstance(exc, Conflict):
        return "", _("Tugas ini sudah selesai atau diambil petugas lain. Muat ulang halaman.")
    messages = {
        "target_instansi": _("Pilih instansi tujuan yang terdaftar."),
        "target_unit": _("Pilih unit kerja dari instansi ini."),
        "reason": _("Alasan wajib diisi untuk keputusan ini."),
    }
    name = exc.field or ""
    if name:
        return name, messages.get(name, _("Nilai ini tidak diterima."))
    return name, refusal(exc)  # no field: the translated sentence for the error's code


def staff(*roles: str) -> tuple[Principal, str] | Response:
    """The signed-in officer (any officer role unless `roles`), or the login/403 response."""
    return staff_or_login(*(roles or OFFICER_ROLES))


def not_found() -> Response:
    return Response(render_template("officer/not_found.html"), status=404)


def task_url(task: Any, principal: Principal) -> str:
    if task.milestone == "verification" and NATIONAL in principal.roles():
        return url_for("officer.verify", task_id=task.id)
    return url_for("officer.task", task_id=task.id)
