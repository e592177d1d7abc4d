"""`/designer`: the BPMN modeler (bpmn-js) over the process-definitions API, for designers.

The page holds no data of its own: its script lists, opens, validates, deploys and compares
definitions through `/api/v1/process-definitions` with the session cookie and CSRF header.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from api.web import i18n
from api.web.auth_pages import DESIGNER_ROLE, page_context, protect, signed_in

blp = Blueprint("designer", __name__, template_folder="templates")
i18n.install(blp)
blp.context_processor(page_context)
blp.after_request(protect)


@blp.get("/designer")
def page() -> Response:
    staff = signed_in()
    if staff is None:
        here = request.full_path if request.query_string else request.path
        return redirect(url_for("web.login", next=here))  # type: ignore[return-value]
    if DESIGNER_ROLE not in staff[0].roles():
        return Response(render_template("forbidden.html"), status=403)
    return Response(render_template("designer.html"))
