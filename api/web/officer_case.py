"""Work on a task's report beside its form: internal notes, linking duplicate reports to it (and
unlinking them), and hiding phrases of its public text (redactions). Each posted form comes back
to the task page: on success at its section, on a refusal with the error next to its field."""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_babel import gettext as _

from api.db import db
from api.web.officer_common import OFFICER_ROLES, blp, not_found
from api.web.officer_task import task_page
from api.web.pages import staff_form
from engine.errors import Conflict, DomainError, InvalidInput, NotFound
from engine.services import bursts, officer_notes, public_feed, tasks


def _back(task_id: int, ok: str, section: str) -> Response:
    target = url_for("officer.task", task_id=task_id, ok=ok) + f"#{section}"
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
        return not_found()
    except InvalidInput:
        message = (
            _("Paling banyak %(n)s karakter.", n=officer_notes.MAX_NOTE)
            if text.strip()
            else _("Tulis catatan terlebih dahulu.")
        )
        return task_page(staff[0], task_id, note=text, note_error=message, status=422)
    return _back(task_id, "catatan", "catatan")


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
        return not_found()
    typed = request.form.get("duplicate", "").strip()[:64]
    if not typed:
        message = _("Tulis nomor laporan duplikat.")
        return task_page(staff[0], task_id, duplicate_error=message, status=422)
    try:
        bursts.link_duplicate(
            db.session(),
            principal=staff[0],
            main_tracking_id=view.report.tracking_id,
            duplicate_tracking_id=typed.upper(),
        )
    except DomainError as exc:
        message = _duplicate_refused(exc)
        return task_page(
            staff[0], task_id, duplicate=typed, duplicate_error=message, status=exc.status
        )
    return _back(task_id, "duplikat", "duplikat")


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
        return not_found()
    return _back(task_id, "lepas", "duplikat")


def _phrase_refused(typed: str) -> str:
    if not typed.strip():
        return _("Tulis kata atau frasa yang akan disamarkan.")
    length = len(" ".join(typed.split()))
    if not public_feed.MIN_PHRASE <= length <= public_feed.MAX_PHRASE:
        return _(
            "Frasa harus %(min)s sampai %(max)s karakter.",
            min=public_feed.MIN_PHRASE,
            max=public_feed.MAX_PHRASE,
        )
    return _("Frasa ini memuat karakter yang tidak diterima.")


@blp.post("/tugas/<int:task_id>/samarkan")
def redact(task_id: int) -> Response:
    """Hide a phrase of the report in every public view (the feed, the status page)."""
    staff = staff_form(*OFFICER_ROLES)
    if isinstance(staff, Response):
        return staff
    typed = request.form.get("phrase", "")[: public_feed.MAX_PHRASE * 2]
    try:
        view = tasks.get(db.session(), principal=staff[0], task_id=task_id)
        public_feed.redact(
            db.session(),
            principal=staff[0],
            tracking_id=view.report.tracking_id,
            phrases=[typed],
        )
    except NotFound:
        return not_found()
    except InvalidInput:
        message = _phrase_refused(typed)
        return task_page(staff[0], task_id, phrase=typed, phrase_error=message, status=422)
    return _back(task_id, "samar", "samarkan")
