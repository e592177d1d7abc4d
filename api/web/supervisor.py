"""Supervisor pages: the alert inbox (unread count in the header), the overdue list of the
supervised tree, and one report with the four interventions (remind, new deadline, reassign,
take over).

Reads come from `sla.views` and `sla.supervised`; every intervention goes through
`sla.interventions`, which authorises, audits and writes the timeline. Forms are plain POSTs
carrying the session's CSRF token; a refused one shows its errors next to the fields, in the
page's language, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from api.db import db
from api.web import session
from api.web.forms import csrf_refused
from api.web.pages import add_nav_link, page_blueprint, staff_or_login
from api.web.refusals import refusal
from engine.errors import Conflict, DomainError, Forbidden, NotFound
from engine.services.auth import Principal
from sla import interventions, supervised, views

blp = page_blueprint("supervisor", __name__)
ROLES = tuple(sorted(supervised.SUPERVISING_ROLES))
SHOWN_IN = ZoneInfo("Asia/Jakarta")
MAX_TEXT = interventions.MAX_TEXT
MAX_DAYS = interventions.MAX_WORKING_DAYS
ACTIONS = ("ingatkan", "tenggat", "alihkan", "ambil-alih")
# refusals of sla.interventions shown above the form, by code (api.web.refusals has each sentence)
INTERVENTION_CODES = frozenset(
    {"nobody_holds", "already_held", "not_escalated", "no_open_task", "changed_meanwhile"}
)


def _unread(principal: Principal) -> int:
    return supervised.unread_count(db.session(), principal=principal)


add_nav_link("supervisor.alerts", lambda: _("Kotak peringatan"), badge=_unread, order=30)
add_nav_link("supervisor.overdue", lambda: _("Pengawasan"), roles=frozenset(ROLES), order=30)


def when(moment: datetime | None) -> str:
    return f"{moment.astimezone(SHOWN_IN):%d-%m-%Y %H:%M} WIB" if moment else "-"


def days(value: float | None) -> str:
    return str(format_decimal(abs(value), format="#,##0.#")) if value is not None else "-"


def label(code: str | None) -> str:
    """Readable names of statuses, milestones, timeline steps, escalation reasons, actions."""
    names: dict[str, Callable[[], str]] = {
        "pending_verification": lambda: _("Menunggu verifikasi"),
        "on_hold": lambda: _("Ditunda"),
        "rejected": lambda: _("Bukan wewenang"),
        "archived": lambda: _("Diarsipkan"),
        "forwarded": lambda: _("Diteruskan ke instansi"),
        "in_progress": lambda: _("Sedang ditindaklanjuti"),
        "followed_up": lambda: _("Sudah ditindaklanjuti"),
        "reopened": lambda: _("Dibuka kembali"),
        "closed": lambda: _("Selesai"),
        "auto_closed": lambda: _("Ditutup otomatis"),
        "filed": lambda: _("Laporan masuk"),
        "returned": lambda: _("Dikembalikan untuk verifikasi ulang"),
        "disposed": lambda: _("Didisposisikan ke unit"),
        "follow_up": lambda: _("Tindak lanjut"),
        "info_supplied": lambda: _("Pelapor melengkapi informasi"),
        "rated": lambda: _("Pelapor memberi penilaian"),
        "comment": lambda: _("Tanggapan pelapor"),
        "escalated": lambda: _("Eskalasi"),
        "supervision": lambda: _("Tindakan pengawas"),
        "outer_limit": lambda: _("Melewati batas 60 hari"),
        "overdue": lambda: _("Lewat tenggat"),
        "verification": lambda: _("Verifikasi"),
        "disposition": lambda: _("Disposisi"),
        "follow-up": lambda: _("Tindak lanjut"),
        "close": lambda: _("Penutupan"),
        "remind": lambda: _("Pengingat"),
        "deadline": lambda: _("Batas waktu baru"),
        "reassign": lambda: _("Dialihkan"),
        "take_over": lambda: _("Diambil alih"),
    }
    found = names.get(f"{code}")
    return found() if found else (code or "-")


@blp.context_processor
def helpers() -> dict[str, Any]:
    return {"when": when, "days": days, "label": label}


def _forbidden() -> Response:
    return Response(render_template("supervisor/forbidden.html"), status=403)


def _staff(*, supervisor: bool) -> tuple[Principal, str] | Response:
    """The signed-in staff member (a supervising one when `supervisor`), else the answer."""
    staff = staff_or_login()
    if isinstance(staff, Response):
        return staff
    if supervisor and not supervised.supervises(staff[0]):
        return _forbidden()
    return staff


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


# --- the alert inbox -----------------------------------------------------------------------


@blp.get("/peringatan")
def alerts() -> Response:
    staff = _staff(supervisor=False)
    if isinstance(staff, Response):
        return staff
    found, unread = views.list_alerts(db.session(), principal=staff[0])
    links: dict[int, str] = {}
    if supervised.supervises(staff[0]):
        ids = {a.report_id for a in found if a.report_id is not None}
        links = supervised.tracking_ids(db.session(), report_ids=ids)
    page = render_template("supervisor/alerts.html", alerts=found, unread=unread, tracking_of=links)
    return Response(page)


@blp.post("/peringatan/<int:alert_id>/dibaca")
def mark_read(alert_id: int) -> Response:
    staff = _staff(supervisor=False)
    if isinstance(staff, Response):
        return staff
    refused = csrf_refused(staff[1])
    if refused:
        return refused
    try:
        views.mark_read(db.session(), principal=staff[0], alert_id=alert_id)
    except NotFound:
        return Response(render_template("supervisor/not_found.html"), status=404)
    return _see_other("supervisor.alerts")


@blp.post("/peringatan/<int:alert_id>/buka")
def open_alert(alert_id: int) -> Response:
    """Opening an alert marks it read and goes to its report."""
    staff = _staff(supervisor=False)
    if isinstance(staff, Response):
        return staff
    refused = csrf_refused(staff[1])
    if refused:
        return refused
    try:
        alert = views.mark_read(db.session(), principal=staff[0], alert_id=alert_id)
    except NotFound:
        return Response(render_template("supervisor/not_found.html"), status=404)
    ids = {alert.report_id} if alert.report_id else set()
    tracking = supervised.tracking_ids(db.session(), report_ids=ids).get(alert.report_id or 0)
    if tracking and supervised.supervises(staff[0]):
        return _see_other("supervisor.report", tracking_id=tracking)
    return _see_other("supervisor.alerts")


@blp.post("/peringatan/semua-dibaca")
def mark_all_read() -> Response:
    staff = _staff(supervisor=False)
    if isinstance(staff, Response):
        return staff
    refused = csrf_refused(staff[1])
    if refused:
        return refused
    supervised.mark_all_read(db.session(), principal=staff[0])
    return _see_other("supervisor.alerts")


# --- the overdue list and one report -------------------------------------------------------


def _number(name: str, low: int, high: int) -> int | None:
    text = request.args.get(name, "").strip()
    wanted = text.isascii() and text.isdigit() and len(text) <= len(str(high))
    return int(text) if wanted and low <= int(text) <= high else None


@blp.get("/pengawasan")
def overdue() -> Response:
    staff = _staff(supervisor=True)
    if isinstance(staff, Response):
        return staff
    filters = {
        "instansi": request.args.get("instansi", "").strip()[: supervised.MAX_FILTER],
        "tingkat": _number("tingkat", 1, 9),
        "keadaan": request.args.get("keadaan")
        if request.args.get("keadaan") in (supervised.OVERDUE, supervised.ESCALATED)
        else "",
    }
    page = _number("halaman", 1, supervised.MAX_PAGE) or 1
    result = supervised.list_overdue(
        db.session(),
        principal=staff[0],
        instansi=filters["instansi"] or None,
        level=filters["tingkat"],
        state=filters["keadaan"] or None,
        page=page,
    )
    kept = {k: v for k, v in filters.items() if v}
    return Response(
        render_template("supervisor/overdue.html", result=result, filters=filters, kept=kept)
    )


def _detail(
    principal: Principal,
    tracking_id: str,
    *,
    status: int = 200,
    form: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    try:
        report = supervised.report_view(db.session(), principal=principal, tracking_id=tracking_id)
    except NotFound:
        return Response(render_template("supervisor/not_found.html"), status=404)
    page = render_template(
        "supervisor/report.html",
        report=report,
        form=form,
        errors=errors or {},
        values=values or {},
        done=request.args.get("selesai") if request.args.get("selesai") in ACTIONS else None,
        max_days=MAX_DAYS,
    )
    return Response(page, status=status)


@blp.get("/pengawasan/<tracking_id>")
def report(tracking_id: str) -> Response:
    staff = _staff(supervisor=True)
    if isinstance(staff, Response):
        return staff
    return _detail(staff[0], tracking_id)


# --- the four interventions ----------------------------------------------------------------


def _reason(errors: dict[str, str], text: str) -> None:
    if not text.strip() or len(text.strip()) > MAX_TEXT:
        errors["reason"] = _("Isi alasan, paling banyak %(max)s karakter.", max=MAX_TEXT)


def message_of(exc: DomainError) -> tuple[str, str]:
    """The form field an error belongs to, and its message in the page's language."""
    field = exc.field or "form"
    if field == "reason":
        return field, _("Isi alasan, paling banyak %(max)s karakter.", max=MAX_TEXT)
    if field == "message":
        return field, _("Pesan paling banyak %(max)s karakter.", max=MAX_TEXT)
    if field in ("working_days", "due_at"):
        return "working_days", _("Isi jumlah hari kerja dari 1 sampai %(max)s.", max=MAX_DAYS)
    if field in ("unit", "instansi"):
        if isinstance(exc, Forbidden):
            return "target", _("Instansi itu di luar pengawasan Anda.")
        if isinstance(exc, Conflict):
            return "target", _("Tugas ini tidak dapat dipindah ke tujuan itu.")
        return "target", _("Pilih unit kerja atau instansi lain dari daftar.")
    if field == "status":
        return "form", _("Status laporan tidak mengizinkan pemindahan ini.")
    if exc.code in INTERVENTION_CODES:
        return "form", refusal(exc)
    if isinstance(exc, Conflict):
        return "form", _(
            "Tugas terbuka laporan ini tidak dieskalasi kepada Anda atau sudah berubah."
        )
    return "form", _("Periksa kembali isian formulir.")


def _intervene(tracking_id: str, action: str, run: Callable[[Principal], Any]) -> Response:
    staff = _staff(supervisor=True)
    if isinstance(staff, Response):
        return staff
    refused = csrf_refused(staff[1])
    if refused:
        return refused
    values = {k: v for k, v in request.form.items() if k != session.CSRF_FIELD}
    errors: dict[str, str] = {}
    status = 422
    if not _check(action, values, errors):
        try:
            run(staff[0])
        except NotFound:
            return Response(render_template("supervisor/not_found.html"), status=404)
        except DomainError as exc:
            where, message = message_of(exc)
            errors[where], status = message, exc.status
        else:
            return _see_other("supervisor.report", tracking_id=tracking_id, selesai=action)
    return _detail(staff[0], tracking_id, status=status, form=action, errors=errors, values=values)


def _check(action: str, values: dict[str, str], errors: dict[str, str]) -> bool:
    """Check the form here first, so messages are in the page's language; True: errors."""
    if action == "ingatkan":
        if len(values.get("message", "").strip()) > MAX_TEXT:
            errors["message"] = _("Pesan paling banyak %(max)s karakter.", max=MAX_TEXT)
    else:
        _reason(errors, values.get("reason", ""))
    if action == "tenggat":
        text = values.get("working_days", "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 3 and 0 < int(text) <= MAX_DAYS):
            errors["working_days"] = _("Isi jumlah hari kerja dari 1 sampai %(max)s.", max=MAX_DAYS)
    if action == "alihkan":
        kind, _sep, code = values.get("target", "").partition(":")
        if kind not in ("unit", "instansi") or not code:
            errors["target"] = _("Pilih unit kerja atau instansi lain dari daftar.")
    return bool(errors)


@blp.post("/pengawasan/<tracking_id>/ingatkan")
def remind(tracking_id: str) -> Response:
    return _intervene(
        tracking_id,
        "ingatkan",
        lambda who: interventions.remind(
            db.session(),
            principal=who,
            tracking_id=tracking_id,
            message=request.form.get("message") or None,
        ),
    )


@blp.post("/pengawasan/<tracking_id>/tenggat")
def deadline(tracking_id: str) -> Response:
    return _intervene(
        tracking_id,
        "tenggat",
        lambda who: interventions.set_deadline(
            db.session(),
            principal=who,
            tracking_id=tracking_id,
            reason=request.form.get("reason", ""),
            working_days=int(request.form.get("working_days", "0").strip()),
        ),
    )


@blp.post("/pengawasan/<tracking_id>/alihkan")
def reassign(tracking_id: str) -> Response:
    kind, _sep, code = request.form.get("target", "").partition(":")
    return _intervene(
        tracking_id,
        "alihkan",
        lambda who: interventions.reassign(
            db.session(),
            principal=who,
            tracking_id=tracking_id,
            reason=request.form.get("reason", ""),
            **{kind: code},
        ),
    )


@blp.post("/pengawasan/<tracking_id>/ambil-alih")
def take_over(tracking_id: str) -> Response:
    return _intervene(
        tracking_id,
        "ambil-alih",
        lambda who: interventions.take_over(
            db.session(),
            principal=who,
            tracking_id=tracking_id,
            reason=request.form.get("reason", ""),
        ),
    )
