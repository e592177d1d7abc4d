"""The national admins' verification queue (`/verifikasi`): the reports waiting for a decision a
page at a time, forwarding many at once to one instansi (each on its own, with an answer for
each), and one report's decision page with the instansi search (`/verifikasi/<id>`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from api.db import db
from api.web.officer_common import NATIONAL, blp, not_found, staff
from api.web.officer_inbox import chosen_page, inbox_rows, pager
from api.web.officer_task import complete_checked
from api.web.pages import staff_form
from api.web.task_forms import read_form
from engine.errors import InvalidInput, NotFound
from engine.services import bursts, officer_notes, registry, tasks
from engine.services.auth import Principal
from sla import views as sla_views


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
    page = chosen_page()
    rows, total = inbox_rows(principal, milestone="verification", page=page)
    errors = dict(errors or {})
    query = request.args.get("q", "").strip()
    found = _search(query, errors)
    if target and target not in {code for code, _name in found}:
        found.insert(0, (target, target))
    return Response(
        render_template(
            "officer/queue.html",
            rows=rows,
            total=total,
            pager=pager("officer.queue", page, total, q=query),
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
    signed = staff(NATIONAL)
    if isinstance(signed, Response):
        return signed
    return _queue_page(signed[0])


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
    signed = staff_form(NATIONAL)
    if isinstance(signed, Response):
        return signed
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
        return _queue_page(signed[0], chosen=chosen, target=target, errors=errors, status=422)
    data = {"outcome": "forward", "target_instansi": target}
    answers = bursts.complete_many(db.session(), principal=signed[0], task_ids=ids, data=data)
    unnamed = [r.task_id for r in answers if not r.tracking_id]
    names = (
        {
            row.task.id: row.tracking_id
            for row in officer_notes.inbox(
                db.session(), principal=signed[0], ids=unnamed, limit=len(unnamed)
            )
        }
        if unnamed
        else {}
    )
    results = [
        _batch_result(r, r.tracking_id or names.get(r.task_id) or f"#{r.task_id}") for r in answers
    ]
    if not any(r.status == 200 for r in answers) and all(
        r.field == "target_instansi" for r in answers
    ):
        errors["target_instansi"] = _("Pilih instansi tujuan yang terdaftar.")
        chosen = frozenset(ids)
        return _queue_page(signed[0], chosen=chosen, target=target, errors=errors, status=422)
    return _queue_page(signed[0], results=results)


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
        return not_found()
    if case.task.milestone != "verification":
        return not_found()
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
    signed = staff(NATIONAL)
    if isinstance(signed, Response):
        return signed
    return _verify_page(signed[0], task_id)


@blp.post("/verifikasi/<int:task_id>")
def verify_post(task_id: int) -> Response:
    signed = staff_form(NATIONAL)
    if isinstance(signed, Response):
        return signed
    try:
        view = tasks.get(db.session(), principal=signed[0], task_id=task_id)
    except NotFound:
        return not_found()
    if view.task.milestone != "verification":
        return not_found()
    outcome = request.form.get("outcome", "")
    wanted = ("outcome", "target_instansi") if outcome == "forward" else ("outcome", "reason")
    data, shown, errors = read_form(view.form_schema, MultiDict(request.form))
    data = {k: v for k, v in data.items() if k in wanted}
    if outcome in {"tunda", "bukan_wewenang", "arsipkan"} and not data.get("reason"):
        errors["reason"] = _("Alasan wajib diisi untuk keputusan ini.")
    if outcome == "forward" and not data.get("target_instansi"):
        errors["target_instansi"] = _("Pilih instansi tujuan yang terdaftar.")
    errors = errors or complete_checked(signed[0], task_id, view.form_schema, data)
    if errors:
        return _verify_page(
            signed[0], task_id, active=outcome, values=shown, errors=errors, status=422
        )
    target = url_for("officer.queue", selesai=view.report.tracking_id)
    return redirect(target, code=303)  # type: ignore[return-value]
