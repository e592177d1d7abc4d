"""Finding a report again: by its tracking number (and secret, for a rahasia report), or by
asking for the secret links to be e-mailed again to the address given when filing."""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_babel import gettext as _

from api.db import db
from api.schemas.pelapor import ResendLinkSchema
from api.web import session
from api.web.citizen_pages import blp, expired, load, page
from engine.errors import NotFound
from engine.services import reports
from sla import pelapor_notices


def _tracking_id(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())[:32]


@blp.get("/lacak")
def track() -> Response:
    raw = request.args.get("tracking_id")
    secret = request.args.get("secret", "").strip()[:128]
    values = {"tracking_id": raw or "", "secret": secret}
    if raw is None:
        return page("citizen/track.html", values=values, errors={})
    tracking_id = _tracking_id(raw)
    if not tracking_id:
        return page(
            "citizen/track.html", 422, values=values, errors={"tracking_id": _("Wajib diisi.")}
        )
    if not reports.is_tracking_id(tracking_id):
        message = _("Nomor pelacakan terdiri dari %(count)s huruf dan angka.", count=10)
        return page("citizen/track.html", 422, values=values, errors={"tracking_id": message})
    try:
        reports.get_public(db.session(), tracking_id=tracking_id, secret=secret or None)
    except NotFound:
        message = _(
            "Laporan tidak ditemukan. Laporan rahasia hanya terbuka dengan kode rahasianya."
        )
        return page("citizen/track.html", 404, values=values, errors={"tracking_id": message})
    where = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret or None)
    return redirect(where, code=303)  # type: ignore[return-value]


@blp.get("/lacak/kirim-ulang")
def resend_form() -> Response:
    return page("citizen/resend.html", values={"email": ""}, errors={})


@blp.post("/lacak/kirim-ulang")
def resend_post() -> Response:
    values = {"email": request.form.get("email", "").strip()}
    if not session.login_csrf_ok():
        return page("citizen/resend.html", 400, values=values, errors={}, error=expired())
    errors: dict[str, str] = {}
    loaded = load(ResendLinkSchema(), dict(values), errors)
    if errors:
        return page("citizen/resend.html", 422, values=values, errors=errors)
    pelapor_notices.resend_links(db.session(), email=loaded["email"])
    return page("citizen/resend.html", values={"email": ""}, errors={}, sent=True)
