"""A report's status page (`/lapor/<tracking_id>`): its steps with dates and the current
deadline, the follow-up, the history; and, for its pelapor (the secret link), the attachments,
the forms to reply or rate, and their optional GESI answers with the form to delete them.

Other citizen pages that post to this report show this page again with their errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from api.db import db
from api.web.citizen_pages import (
    blp,
    category_labels,
    classifications,
    gesi_questions,
    not_found,
    page,
)
from api.web.pages import local_time
from engine import status
from engine.errors import NotFound
from engine.models import Region, Report
from engine.services import attachments, reports

STEP_OF_STATUS = {
    status.PENDING_VERIFICATION: 1,
    status.ON_HOLD: 1,
    status.FORWARDED: 2,
    status.IN_PROGRESS: 3,
    status.REOPENED: 3,
    status.FOLLOWED_UP: 4,
}
STEP_KINDS = (
    {"filed"},
    {"forwarded"},
    {"disposed"},
    {"follow_up"},
    {"closed", "auto_closed", "rejected", "archived"},
)


def _when(moment: datetime | None, zone: str) -> str | None:
    if moment is None:
        return None
    locale = str(get_locale() or "id")
    pattern = "d MMMM y, HH:mm" if locale == "en" else "d MMMM y, HH.mm"
    return local_time(moment, zone, pattern)


def _region(code: str) -> tuple[str, str]:
    """The report's region name and time zone (a read for display only)."""
    with db.session().begin():
        region = db.session().scalar(select(Region).where(Region.code == code))
        return (region.name, region.timezone) if region else (code, "Asia/Jakarta")


def _steps(timeline: list[Any], report_status: str, due: str | None, zone: str) -> list[Any]:
    names = [
        _("Dilaporkan"),
        _("Diverifikasi"),
        _("Diteruskan ke unit kerja"),
        _("Ditindaklanjuti"),
        _("Selesai"),
    ]
    current = STEP_OF_STATUS.get(report_status, len(names))
    steps = []
    for index, (name, kinds) in enumerate(zip(names, STEP_KINDS, strict=True)):
        entries = [t for t in timeline if t.kind in kinds]
        state = "done" if index < current else "current" if index == current else "todo"
        at = _when(entries[-1].at, zone) if entries and state == "done" else None
        steps.append(
            {"name": name, "state": state, "at": at, "due": due if state == "current" else None}
        )
    return steps


def _event(entry: Any) -> str:
    data = entry.data or {}
    labels = {
        "filed": _("Laporan diterima"),
        "on_hold": _("Ditunda: petugas meminta informasi tambahan"),
        "info_supplied": _("Anda mengirim informasi tambahan"),
        "returned": _("Dikembalikan untuk diteruskan ke instansi lain"),
        "follow_up": _("Tindak lanjut dari instansi"),
        "comment": _("Komentar Anda"),
        "reopened": _("Dibuka kembali karena pelapor tidak puas"),
        "closed": _("Laporan selesai"),
        "auto_closed": _("Ditutup otomatis karena tidak ada tanggapan"),
        "rejected": _("Tidak dapat diproses: bukan wewenang instansi yang terhubung"),
        "archived": _("Diarsipkan"),
    }
    if entry.kind == "forwarded":
        return _("Diverifikasi dan diteruskan ke %(name)s", name=data.get("instansi_name", ""))
    if entry.kind == "disposed":
        return _("Diteruskan ke %(name)s", name=data.get("unit_name", ""))
    if entry.kind == "rated":
        if data.get("satisfied"):
            return _("Penilaian pelapor: puas (%(rating)s dari 5)", rating=data.get("rating"))
        return _("Penilaian pelapor: tidak puas (%(rating)s dari 5)", rating=data.get("rating"))
    return labels.get(entry.kind, _("Pembaruan"))


def _gesi_answers(report: Report) -> list[tuple[str, str, str]]:
    """(field, question, answer) of each optional GESI question the pelapor answered."""
    return [
        (name, question, choices.get(getattr(report, name), getattr(report, name)))
        for name, question, choices in gesi_questions()
        if getattr(report, name) is not None
    ]


def status_page(
    tracking_id: str,
    secret: str | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The status page of the report; its pelapor's parts only with the right `secret`."""
    try:
        view = reports.get_public(db.session(), tracking_id=tracking_id, secret=secret)
    except NotFound:
        return not_found()
    report = view.report
    region_name, zone = _region(report.region_code)
    due = _when(view.current_due_at, zone)
    asked = [t.text for t in view.timeline if t.kind == "on_hold"]
    follow_ups = [t.text for t in view.timeline if t.kind == "follow_up"]
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return page(
        "citizen/status.html",
        status_code,
        report=report,
        owner=view.owner,
        secret=secret if view.owner else None,
        wrong_secret=bool(secret) and not view.owner,
        region_name=region_name,
        classification=dict((c[0], c[1]) for c in classifications()).get(report.classification),
        category=category_labels().get(report.category, report.category),
        steps=_steps(view.timeline, report.status, due, zone),
        history=[(_when(t.at, zone), _event(t), t.text) for t in view.timeline],
        due=due,
        asked=asked[-1] if asked else None,
        follow_up=follow_ups[-1] if follow_ups else None,
        waiting_info=report.status == status.ON_HOLD,
        waiting_rating=report.status == status.FOLLOWED_UP,
        can_reopen=report.reopen_count < 1,
        files=(
            attachments.list_for(
                db.session(), who=attachments.Pelapor(secret), tracking_id=report.tracking_id
            )
            if view.owner
            else []
        ),
        gesi_answers=_gesi_answers(report) if view.owner else [],
        **context,
    )


@blp.get("/lapor/<tracking_id>")
def report_status(tracking_id: str) -> Response:
    secret = request.args.get("secret", "").strip()[:128] or None
    done = {
        "info": _("Informasi tambahan Anda sudah terkirim."),
        "rating": _("Terima kasih atas penilaian Anda."),
        "gesi": _("Jawaban Anda tentang diri Anda sudah dihapus dari laporan ini."),
        "identity": _("Identitas Anda sudah dihapus; laporan ini kini anonim."),
    }
    return status_page(tracking_id, secret, notice=done.get(request.args.get("done", "")))
