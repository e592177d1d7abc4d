"""The pelapor's own public endpoints: re-send lost tracking links to the address they gave;
delete the optional GESI answers of their report; see the personal data held for a report and
have their identity deleted from it (UU 27/2022)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.pelapor import (
    GesiDeletedSchema,
    IdentityDeletedSchema,
    PelaporSecretSchema,
    PersonalDataSchema,
    ResendAcceptedSchema,
    ResendLinkSchema,
)
from engine.services import gesi, privacy
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


@blp.route("/<string:tracking_id>/gesi/delete")
class GesiDelete(MethodView):
    @blp.arguments(PelaporSecretSchema)
    @blp.response(200, GesiDeletedSchema)
    def post(self, data: dict[str, Any], tracking_id: str) -> dict[str, Any]:
        """Delete the optional GESI answers (gender, disability, vulnerable group) given when
        filing; the pelapor's secret of the report is required.

        Answers which answers were deleted (empty when none were left: nothing changes then).
        A wrong secret answers 404, exactly like an unknown tracking id.
        """
        deleted = gesi.delete(db.session(), tracking_id=tracking_id, secret=data["secret"])
        return {"tracking_id": tracking_id, "deleted": deleted}


@blp.route("/<string:tracking_id>/personal-data")
class PersonalData(MethodView):
    @blp.arguments(PelaporSecretSchema, location="query")
    @blp.response(200, PersonalDataSchema)
    def get(self, query: dict[str, Any], tracking_id: str) -> dict[str, Any]:
        """Everything held about the pelapor of this report: identity and contact, GESI
        answers, attachment names and sizes, their own replies, and the emails sent to them.

        The pelapor's secret of the report is required; a wrong one answers 404, exactly like
        an unknown tracking id. The request is audited (ids only).
        """
        held = privacy.held(db.session(), tracking_id=tracking_id, secret=query["secret"])
        return {
            "tracking_id": held.tracking_id,
            "created_at": held.created_at,
            "anonim": held.anonim,
            "rahasia": held.rahasia,
            "identity": held.identity,
            "gesi": held.gesi,
            "attachments": held.attachments,
            "replies": held.replies,
            "emails": held.more.get("emails", []),
        }


@blp.route("/<string:tracking_id>/identity/delete")
class IdentityDelete(MethodView):
    @blp.arguments(PelaporSecretSchema)
    @blp.response(200, IdentityDeletedSchema)
    def post(self, data: dict[str, Any], tracking_id: str) -> dict[str, Any]:
        """Delete the pelapor's identity from this report: name, email, phone, GESI answers and
        the attachments' file names; emails still waiting to go to them are cancelled. The
        report stays, anonim from now on, with its timeline.

        The pelapor's secret is required (it keeps working); a wrong one answers 404. Answers
        what was deleted (empty when nothing was left). Audited with ids only.
        """
        deleted = privacy.delete_identity(
            db.session(), tracking_id=tracking_id, secret=data["secret"]
        )
        return {"tracking_id": tracking_id, "deleted": deleted, "anonim": True}
