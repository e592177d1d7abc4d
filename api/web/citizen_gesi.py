"""The pelapor deletes the optional GESI answers (gender, disability, vulnerable group) they
gave when filing: a form on their report's status page, authorised by the secret of its link
like their other answers there. Anyone else gets the not-found page."""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from api.db import db
from api.web import session
from api.web.citizen_pages import blp, expired, not_found
from api.web.citizen_status import status_page
from engine.errors import NotFound
from engine.services import gesi


@blp.post("/lapor/<tracking_id>/hapus-data-diri")
def delete_gesi(tracking_id: str) -> Response:
    secret = request.form.get("secret", "")[:128]
    if not session.login_csrf_ok():
        return status_page(tracking_id, secret or None, 400, error=expired())
    try:
        gesi.delete(db.session(), tracking_id=tracking_id, secret=secret)
    except NotFound:
        return not_found()
    where = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret, done="gesi")
    return redirect(where, code=303)  # type: ignore[return-value]
