"""The pelapor's own public endpoints: re-send lost tracking links to the address they gave."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.pelapor import ResendAcceptedSchema, ResendLinkSchema
from sla import pelapor_notices

blp = Blueprint(
    "pelapor",
    __name__,
    url_prefix="/api/v1/reports",
    description="The pelapor's own requests (public)",
)

ACCEPTED = {
    "message": "Jika alamat ini tercatat pada laporan, tautan pelacakan baru telah dikirim ke "
    "alamat tersebut. If this address is on file, new tracking links have been sent to it."
}


@blp.route("/resend-link")
class ResendLink(MethodView):
    @blp.arguments(ResendLinkSchema)
    @blp.response(202, ResendAcceptedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Re-send the tracking links of the reports filed with this email address.

        Always 202 with the same body, known address or not (no enumeration). Each listed
        report gets a new secret: links and secrets sent earlier stop working. At most 3
        re-sends per address per hour; beyond that nothing is sent.
        """
        pelapor_notices.resend_links(db.session(), email=data["email"])
        return dict(ACCEPTED)
