"""The pelapor answers on their report's status page: the information an officer asked for
(tunda), and the rating of the follow-up (tidak puas reopens the report once).

Posts carry the secret of the report's link; a wrong one gets the not-found page.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, request, url_for
from flask_babel import gettext as _

from api.db import db
from api.schemas.reports import ReplySchema
from api.web import session
from api.web.citizen_pages import blp, expired, load, not_found
from api.web.citizen_status import status_page
from api.web.refusals import refusal
from engine.errors import Conflict, DomainError, NotFound
from engine.services import reports


def _rating_data(values: dict[str, str], data: dict[str, Any], errors: dict[str, str]) -> None:
    if values["satisfied"] not in ("puas", "tidak_puas"):
        errors["satisfied"] = _("Pilih puas atau tidak puas.")
    elif values["satisfied"] == "tidak_puas" and not values["text"]:
        errors["text"] = _("Tuliskan alasan Anda tidak puas.")
    data["satisfied"] = values["satisfied"] == "puas"
    data["rating"] = values["rating"] or None
    if not values["rating"]:
        errors["rating"] = _("Pilih nilai %(min)s sampai %(max)s.", min=1, max=5)


@blp.post("/lapor/<tracking_id>/balas")
def reply(tracking_id: str) -> Response:
    form = request.form
    secret = form.get("secret", "")[:128]
    kind = form.get("kind", "")
    values = {
        "text": form.get("text", "").strip(),
        "satisfied": form.get("satisfied", ""),
        "rating": form.get("rating", ""),
    }

    def again(code: int, **context: Any) -> Response:
        return status_page(tracking_id, secret or None, code, values=values, kind=kind, **context)

    if not session.login_csrf_ok():
        return again(400, error=expired())
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"secret": secret, "kind": kind, "text": values["text"] or None}
    if kind == "rating":
        _rating_data(values, data, errors)
    elif kind == "info" and not values["text"]:
        errors["text"] = _("Wajib diisi.")
    loaded = load(ReplySchema(), data, errors)
    if "secret" in errors or "kind" in errors:
        return not_found()
    if errors:
        return again(422, errors=errors)
    try:
        reports.reply(
            db.session(), tracking_id=tracking_id, secret=loaded.pop("secret"), data=loaded
        )
    except NotFound:
        return not_found()
    except Conflict:
        return again(409, error=_("Laporan ini sudah berpindah tahap: lihat statusnya di bawah."))
    except DomainError as exc:
        return again(exc.status, error=refusal(exc))
    where = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret, done=kind)
    return redirect(where, code=303)  # type: ignore[return-value]
