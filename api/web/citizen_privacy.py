"""The pelapor's personal data on their report's status page (UU 27/2022): a link to everything
held for the report (the API's JSON, with the secret of their link), and a form that deletes
their identity from it. Authorised by the secret like their other answers there; anyone else
gets the not-found page."""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from api.db import db
from api.web import session
from api.web.citizen_pages import blp, expired, not_found
from api.web.citizen_status import status_page
from engine.errors import NotFound
from engine.services import privacy


@blp.post("/lapor/<tracking_id>/hapus-identitas")
def delete_identity(tracking_id: str) -> Response:
    secret = request.form.get("secret", "")[:128]
    if not session.login_csrf_ok():
        return status_page(tracking_id, secret or None, 400, error=expired())
    try:
        privacy.delete_identity(db.session(), tracking_id=tracking_id, secret=secret)
    except NotFound:
        return not_found()
    where = url_for(
        "citizen.report_status", tracking_id=tracking_id, secret=secret, done="identity"
    )
    return redirect(where, code=303)  # type: ignore[return-value]
