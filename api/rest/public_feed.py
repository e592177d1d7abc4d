"""The public feed (no login): published reports and their follow-ups, masked and redacted;
and officers' redactions (staff, bearer token or session cookie with its CSRF header).

`POST /api/v1/reports/<tracking_id>/redactions` with `{"phrases": ["..."]}` hides each phrase
(case-insensitively) in every public view of the report; it answers 201 with all the phrases
hidden so far. Staff who cannot see the report get 404, as for a missing one.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.public_feed import (
    FeedPageSchema,
    FeedQuerySchema,
    PublicFeedReportSchema,
    RedactionResultSchema,
    RedactionSchema,
)
from engine.services import public_feed

blp = Blueprint(
    "public_feed",
    __name__,
    url_prefix="/api/v1",
    description="The public feed of reports, and officers' redactions",
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/public/reports")
class Feed(MethodView):
    @blp.arguments(FeedQuerySchema, location="query")
    @blp.response(200, FeedPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Published reports, newest first: not rahasia, verified and forwarded; personal data
        masked, officers' redactions applied, the pelapor's name only when not anonim."""
        return public_feed.feed(
            db.session(),
            query=query["q"],
            instansi_code=query["instansi"],
            region_code=query["region"],
            page=query["page"],
            per_page=query["per_page"],
        )


@blp.route("/public/reports/<string:tracking_id>")
class FeedReport(MethodView):
    @blp.response(200, PublicFeedReportSchema)
    def get(self, tracking_id: str) -> Any:
        """One published report with its public timeline (404 when rahasia or unpublished)."""
        return public_feed.report(db.session(), tracking_id=tracking_id)


@blp.route("/reports/<string:tracking_id>/redactions")
class Redactions(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(RedactionSchema)
    @blp.response(201, RedactionResultSchema)
    def post(self, body: dict[str, Any], tracking_id: str) -> Any:
        """Hide phrases of a report in the public feed (staff who can see the report)."""
        phrases = public_feed.redact(
            db.session(),
            principal=current_principal(),
            tracking_id=tracking_id,
            phrases=body["phrases"],
        )
        return {"tracking_id": tracking_id, "phrases": phrases}
