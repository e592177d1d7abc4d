"""Officers' pages: the task inbox (`/tugas`), one task with its report, timeline, form and
internal notes (`/tugas/<id>`), and the national admins' verification queue (`/verifikasi`).
Bursts: the queue forwards many reports at once to one instansi; the task page links duplicate
reports to its main report and can publish one follow-up for the whole linked group.

Forms are rendered on the server from the task's JSON Schema and work without JavaScript.
Field errors come back next to their fields in the visitor's language, with what was typed.
Services authorise: a task the officer may not see is a 404 page, like a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from api.db import db
from api.web.pages import add_nav_link, page_blueprint, staff_form, staff_or_login
from api.web.task_forms import check, form_fields, read_form, translate_data
from engine.errors import Conflict, DomainError, InvalidInput, NotFound
from engine.services import bursts, officer_notes, registry, tasks
from engine.services.auth import Principal
from sla import views as sla_views

OFFICER_ROLES = ("admin_nasional", "admin_instansi", "admin_unit", "pejabat_penghubung")
NATIONAL = "admin_nasional"
SLA_STATES = (sla_views.ON_TIME, sla_views.DUE_SOON, sla_views.OVERDUE, sla_views.ESCALATED)
MILESTONES = ("verification", "disposition", "follow-up")
WHO = ("mine", "unclaimed")
SHOWN_IN = ZoneInfo("Asia/Jakarta")

blp = page_blueprint("officer", __name__)
add_nav_link("officer.inbox", lambda: _("Kotak tugas"), roles=frozenset(OFFICER_ROLES), order=20)
add_nav_link("officer.queue", lambda: _("Verifikasi"), roles=frozenset({NATIONAL}), order=20)


@blp.context_processor
def helpers() -> dict[str, Any]:
    return {"when": when, "days": days, "data_text": translate_data}


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    text = format_datetime(moment, "d MMM yyyy HH:mm", tzinfo=SHOWN_IN, locale=str(get_locale()))
    return f"{text} WIB"


def days(value: float | None) -> str:
    return "" if value is None else format_decimal(abs(value), "#,##0.#", locale=str(get_locale()))


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
    return name, messages.get(name, _("Nilai ini tidak diterima."))


# ---- shared helpers --------------------------------------------------------------------------


def _staff(*roles: str) -> tuple[Principal, str] | Response:
    return staff_or_login(*(roles or OFFICER_ROLES))


def _not_found() -> Response:
    return Response(render_template("officer/not_found.html"), status=404)


def task_url(task: Any, principal: Principal) -> str:
    if task.milestone == "verification" and NATIONAL in principal.roles():
        return url_for("officer.verify", task_id=task.id)
    return url_for("officer.task", task_id=task.id)


def _inbox_rows(principal: Principal) -> list[dict[str, Any]]:
    rows = officer_notes.inbox(db.session(), principal=principal)
    slas = sla_views.task_sla(db.session(), [r.task for r in rows])
    return [
        {
            "task": r.task,
            "tracking_id": r.tracking_id,
            "title": r.title,
            "sla": slas[r.task.id],
            "url": task_url(r.task, principal),
            "mine": r.task.assignee_id == principal.user_id,
        }
        for r in rows
    ]


# ---- the inbox -------------------------------------------------------------------------------


@blp.get("/tugas")
def inbox() -> Response:
    staff = _staff()
    if isinstance(staff, Response):
        return staff
    principal = staff[0]
    chosen = {
        "state": request.args.get("state", "") if request.args.get("state") in SLA_STATES else "",
        "milestone": request.args.get("milestone", "")
        if request.args.get("milestone") in MILESTONES
        else "",
        "who": request.args.get("who", "") if request.args.get("who") in WHO else "",
    }
    rows = [
        row
        for row in _inbox_rows(principal)
        if (not chosen["state"] or row["sla"].state == chosen["state"])
        and (not chosen["milestone"] or row["task"].milestone == chosen["milestone"])
        and (
            not chosen["who"]
            or (row["mine"] if chosen["who"] == "mine" else row["task"].assignee_id is None)
        )
    ]
    return Response(
        render_template(
            "officer/inbox.html",
            rows=rows,
            chosen=chosen,
            states=SLA_STATES,
            milestones=MILESTONES,
            done=request.args.get("selesai", "")[:16],
            group_done=request.args.get("grup", "")[:4],
            group_failed=request.args.get("gagal", "")[:4],
        )
    )


@blp.post("/tugas/<int:task_id>/ambil")
def claim(task_id: int) -> Response:
    staff = staff_form(*OFFICER_ROLES)
    if isinstance(staff, Response):
        return staff
    try:
        tasks.claim(db.session(), principal=staff[0], task_id=task_id)
    except NotFound:
        return _not_found()
    except Conflict as exc:
        return _task_page(staff[0], task_id, message=service_error(exc)[1], status=409)
    back = {
        "inbox": url_for("officer.inbox"),
        "queue": url_for("officer.queue"),
        "verify": url_for("officer.verify", task_id=task_id),
    }
    target = back.get(request.form.get("back", ""), url_for("officer.task", task_id=task_id))
    return redirect(target, code=303)  # type: ignore[return-value]


# ---- one task --------------------------------------------------------------------------------


def _task_page(
    principal: Principal,
    task_id: int,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    note: str = "",
    note_error: str | None = None,
    duplicate: str = "",
    duplicate_error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        case = officer_notes.case_file(db.session(), principal=principal, task_id=task_id)
    except NotFound:
        return _not_found()
    (sla,) = sla_views.task_sla(db.session(), [case.task]).values()
    duplicates = None  # None: linking is not offered (the task is done)
    if case.task.status == "open":
        try:
            duplicates = bursts.duplicates_of(
                db.session(), principal=principal, main_tracking_id=case.tracking_id
            )
        except NotFound:
            duplicates = None
    errors = dict(errors or {})
    page_error = errors.pop("", None)
    return Response(
        render_template(
            "officer/task.html",
            case=case,
            task=case.task,
            sla=sla,
            fields=form_fields(case.form_schema, values or {}, errors, units=case.units),
            form_title=translate_data(str((case.form_schema or {}).get("title") or "")),
            form_help=translate_data(str((case.form_schema or {}).get("description") or "")),
            can_work=case.task.status == "open"
            and case.task.assignee_id in (None, principal.user_id),
            mine=case.task.assignee_id == principal.user_id,
            verify_url=task_url(case.task, principal),
            message=message or page_error,
            note=note,
            note_error=note_error,
            duplicates=duplicates,
            duplicate=duplicate,
            duplicate_error=duplicate_error,
            flash=request.args.get("ok", ""),
        ),
        status=status,
    )


@blp.get("/tugas/<int:task_id>")
def task(task_id: int) -> Response:
    staff = _staff()
    if isinstance(staff, Response):
        return staff
    return _task_page(staff[0], task_id)


def _complete(
    principal: Principal, task_id: int, schema: Mapping[str, Any] | None, data: dict[str, Any]
) -> dict[str, str]:
    """Validate and complete; the errors by field ('' for the page) when refused."""
    errors = check(schema, data)
    if errors:
        return errors
    try:
        tasks.complete(db.session(), principal=principal, task_id=task_id, data=data)
    except (InvalidInput, Conflict) as exc:
        name, text = service_error(exc)
        known = name in ((schema or {}).get("properties") or {})
        return {name if known else "": text}
    return {}


@blp.post("/tugas/<int:task_id>")
def complete(task_id: int) -> Response:
    staff = staff_form(*OFFICER_ROLES)
    if isinstance(staff, Response):
        return staff
    try:
        view = tasks.get(db.session(), principal=staff[0], task_id=task_id)
    except NotFound:
        return _not_found()
    data, shown, errors = read_form(view.form_schema, request.form)
    if request.form.get("group") == "1" and not errors:
        return _complete_group(staff[0], task_id, view, data, shown)
    errors = errors or _complete(staff[0], task_id, view.form_schema, data)
    if errors:
        return _task_page(staff[0], task_id, values=shown, errors=errors, status=422)
    target = url_for("officer.inbox", selesai=view.report.tracking_id)
    return redirect(target, code=303)  # type: ignore[return-value]


def _complete_group(
    principal: Principal, task_id: int, view: Any, data: dict[str, Any], shown: dict[str, Any]
) -> Response:
    """Complete the main report's task, then the same step of each linked duplicate."""
    errors = check(view.form_schema, data)
    if not errors:
        try:
            results = bursts.complete_group(
                db.session(), principal=principal, task_id=task_id, data=data
            )
        except NotFound:
            return _not_found()
        except DomainError as exc:
            if exc.status == 409:
                errors = {"": service_error(Conflict(exc.message))[1]}
            else:
                name, text = service_error(exc)
                known = name in ((view.form_schema or {}).get("properties") or {})
                errors = {name if known else "": text}
    if errors:
        return _task_page(principal, task_id, values=shown, errors=errors, status=422)
    done = sum(r.status == 200 for r in results[1:])
    target = url_for(
        "officer.inbox",
        selesai=view.report.tracking_id,
        grup=done,
        gagal=len(results) - 1 - done,
    )
    return redirect(target, code=303)  # type: ignore[return-value]


def _duplicate_refused(exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        return _("Laporan tidak dapat menjadi duplikat dirinya sendiri.")
    if isinstance(exc, Conflict) and exc.field == "tracking_id":
        return _("Laporan ini sendiri duplikat laporan lain: tautkan ke laporan utamanya.")
    if isinstance(exc, Conflict):
        return _("Laporan itu sudah ditautkan ke laporan utama.")
    return _("Tidak ada laporan dengan nomor ini di antara pekerjaan Anda.")


@blp.post("/tugas/<int:task_id>/duplikat")
def link_duplicate(task_id: int) -> Response:
    staff = staff_form(*OFFICER_ROLES)
    if isinstance(staff, Response):
        return staff
    try:
        view = tasks.get(db.session(), principal=staff[0], task_id=task_id)
    except NotFound:
        return _not_found()
    typed = request.form.get("duplicate", "").strip()[:64]
    if not typed:
        message = _("Tulis nomor laporan duplikat.")
        return _task_page(staff[0], task_id, duplicate_error=message, status=422)
    try:
        bursts.link_duplicate(
            db.session(),
            principal=staff[0],
            main_tracking_id=view.report.tracking_id,
            duplicate_tracking_id=typed.upper(),
        )
    except DomainError as exc:
        message = _duplicate_refused(exc)
        return _task_page(
            staff[0], task_id, duplicate=typed, duplicate_error=message, status=exc.status
        )
    target = url_for("officer.task", task_id=task_id, ok="duplikat") + "#duplikat"
    return redirect(target, code=303)  # type: ignore[return-value]


@blp.post("/tugas/<int:task_id>/duplikat/<tracking_id>/lepas")
def unlink_duplicate(task_id: int, tracking_id: str) -> Response:
    staff = staff_form(*OFFICER_ROLES)
    if isinstance(staff, Response):
        return staff
    try:
        view = tasks.get(db.session(), principal=staff[0], task_id=task_id)
        bursts.unlink_duplicate(
            db.session(),
            principal=staff[0],
            main_tracking_id=view.report.tracking_id,
            duplicate_tracking_id=tracking_id,
        )
    except NotFound:
        return _not_found()
    target = url_for("officer.task", task_id=task_id, ok="lepas") + "#duplikat"
    return redirect(target, code=303)  # type: ignore[return-value]


@blp.post("/tugas/<int:task_id>/catatan")
def note(task_id: int) -> Response:
    staff = staff_form(*OFFICER_ROLES)
    if isinstance(staff, Response):
        return staff
    text = request.form.get("text", "")
    try:
        officer_notes.add_note(db.session(), principal=staff[0], task_id=task_id, text=text)
    except NotFound:
        return _not_found()
    except InvalidInput:
        message = (
            _("Paling banyak %(n)s karakter.", n=officer_notes.MAX_NOTE)
            if text.strip()
            else _("Tulis catatan terlebih dahulu.")
        )
        return _task_page(staff[0], task_id, note=text, note_error=message, status=422)
    target = url_for("officer.task", task_id=task_id, ok="catatan") + "#catatan"
    return redirect(target, code=303)  # type: ignore[return-value]


# ---- the national verification queue ---------------------------------------------------------


def _search(query: str, errors: dict[str, str]) -> list[tuple[str, str]]:
    """(code, name) of the instansi matching `query`; a too-long query is an error on `q`."""
    if not query:
        return []
    try:
        return [
            (i.code, i.name) for i in registry.search_instansi(db.session(), query=query, limit=10)
        ]
    except InvalidInput:
        errors["q"] = _("Paling banyak %(n)s karakter.", n=registry.MAX_QUERY)
        return []


def _queue_page(
    principal: Principal,
    *,
    chosen: frozenset[int] = frozenset(),
    target: str = "",
    errors: dict[str, str] | None = None,
    results: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> Response:
    rows = [r for r in _inbox_rows(principal) if r["task"].milestone == "verification"]
    errors = dict(errors or {})
    query = request.args.get("q", "").strip()
    found = _search(query, errors)
    if target and target not in {code for code, _name in found}:
        found.insert(0, (target, target))
    return Response(
        render_template(
            "officer/queue.html",
            rows=rows,
            done=request.args.get("selesai", "")[:16],
            query=query,
            found=found,
            chosen=chosen,
            target=target,
            errors=errors,
            results=results or [],
        ),
        status=status,
    )


@blp.get("/verifikasi")
def queue() -> Response:
    staff = _staff(NATIONAL)
    if isinstance(staff, Response):
        return staff
    return _queue_page(staff[0])


def _batch_result(result: bursts.ItemResult, tracking: str) -> dict[str, Any]:
    if result.status == 200:
        text = _("Diteruskan.")
    elif result.status == 409:
        text = _("Sudah selesai atau diambil petugas lain.")
    elif result.field == "target_instansi":
        text = _("Pilih instansi tujuan yang terdaftar.")
    elif result.status == 404:
        text = _("Tugas tidak ditemukan.")
    else:
        text = _("Nilai ini tidak diterima.")
    return {"tracking_id": tracking, "ok": result.status == 200, "text": text}


@blp.post("/verifikasi")
def queue_forward() -> Response:
    """Forward the ticked reports to one instansi, each on its own, with an answer for each."""
    staff = staff_form(NATIONAL)
    if isinstance(staff, Response):
        return staff
    raw = request.form.getlist("task_ids")[: bursts.MAX_BATCH + 1]
    ids = list(dict.fromkeys(int(v) for v in raw if v.isdigit() and len(v) <= 9))
    target = request.form.get("target_instansi", "").strip()[:32]
    errors = {}
    if not ids:
        errors["task_ids"] = _("Pilih paling sedikit satu laporan.")
    elif len(ids) > bursts.MAX_BATCH:
        errors["task_ids"] = _("Paling banyak %(n)s laporan sekaligus.", n=bursts.MAX_BATCH)
    if not target:
        errors["target_instansi"] = _("Pilih instansi tujuan yang terdaftar.")
    if errors:
        chosen = frozenset(ids)
        return _queue_page(staff[0], chosen=chosen, target=target, errors=errors, status=422)
    names = {row["task"].id: row["tracking_id"] for row in _inbox_rows(staff[0])}
    data = {"outcome": "forward", "target_instansi": target}
    answers = bursts.complete_many(db.session(), principal=staff[0], task_ids=ids, data=data)
    results = [
        _batch_result(r, r.tracking_id or names.get(r.task_id) or f"#{r.task_id}") for r in answers
    ]
    if not any(r.status == 200 for r in answers) and all(
        r.field == "target_instansi" for r in answers
    ):
        errors["target_instansi"] = _("Pilih instansi tujuan yang terdaftar.")
        chosen = frozenset(ids)
        return _queue_page(staff[0], chosen=chosen, target=target, errors=errors, status=422)
    return _queue_page(staff[0], results=results)


def _verify_page(
    principal: Principal,
    task_id: int,
    *,
    active: str = "",
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        case = officer_notes.case_file(db.session(), principal=principal, task_id=task_id)
    except NotFound:
        return _not_found()
    if case.task.milestone != "verification":
        return _not_found()
    values = dict(values or {})
    errors = dict(errors or {})
    query = request.args.get("q", "").strip()
    found = _search(query, errors)
    if not query and case.target_instansi:
        found = [case.target_instansi]
    chosen = values.get("target_instansi")
    if chosen and chosen not in {code for code, _name in found}:
        found.insert(0, (chosen, chosen))
    (sla,) = sla_views.task_sla(db.session(), [case.task]).values()
    return Response(
        render_template(
            "officer/verify.html",
            case=case,
            task=case.task,
            sla=sla,
            query=query,
            found=found,
            active=active,
            values=values,
            errors=errors,
            can_work=case.task.status == "open"
            and case.task.assignee_id in (None, principal.user_id),
            mine=case.task.assignee_id == principal.user_id,
        ),
        status=status,
    )


@blp.get("/verifikasi/<int:task_id>")
def verify(task_id: int) -> Response:
    staff = _staff(NATIONAL)
    if isinstance(staff, Response):
        return staff
    return _verify_page(staff[0], task_id)


@blp.post("/verifikasi/<int:task_id>")
def verify_post(task_id: int) -> Response:
    staff = staff_form(NATIONAL)
    if isinstance(staff, Response):
        return staff
    try:
        view = tasks.get(db.session(), principal=staff[0], task_id=task_id)
    except NotFound:
        return _not_found()
    if view.task.milestone != "verification":
        return _not_found()
    outcome = request.form.get("outcome", "")
    wanted = ("outcome", "target_instansi") if outcome == "forward" else ("outcome", "reason")
    data, shown, errors = read_form(view.form_schema, MultiDict(request.form))
    data = {k: v for k, v in data.items() if k in wanted}
    if outcome in {"tunda", "bukan_wewenang", "arsipkan"} and not data.get("reason"):
        errors["reason"] = _("Alasan wajib diisi untuk keputusan ini.")
    if outcome == "forward" and not data.get("target_instansi"):
        errors["target_instansi"] = _("Pilih instansi tujuan yang terdaftar.")
    errors = errors or _complete(staff[0], task_id, view.form_schema, data)
    if errors:
        return _verify_page(
            staff[0], task_id, active=outcome, values=shown, errors=errors, status=422
        )
    target = url_for("officer.queue", selesai=view.report.tracking_id)
    return redirect(target, code=303)  # type: ignore[return-value]
