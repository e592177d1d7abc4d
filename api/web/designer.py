"""`/designer`: the BPMN modeler (bpmn-js) over the process-definitions API, for designers.

The page holds no data of its own: its script lists, opens, validates, deploys and compares
definitions through `/api/v1/process-definitions` with the session cookie and CSRF header.
"""

from __future__ import annotations

from flask import Response, render_template
from flask_babel import lazy_gettext

from api.web.auth_pages import DESIGNER_ROLE
from api.web.pages import add_nav_link, page_blueprint, staff_or_login

blp = page_blueprint("designer", __name__)
add_nav_link(
    "designer.page", lambda: str(lazy_gettext("Perancang proses")), roles=frozenset({DESIGNER_ROLE})
)


@blp.get("/designer")
def page() -> Response:
    staff = staff_or_login(DESIGNER_ROLE)
    if isinstance(staff, Response):
        return staff
    return Response(render_template("designer.html"))
