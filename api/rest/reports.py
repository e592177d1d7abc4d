"""Public report endpoints: file, track, reply (no login; the pelapor holds a secret)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.reports import (
    FiledSchema,
    PublicReportSchema,
    ReplyResultSchema,
    ReplySchema,
    ReportCreateSchema,
    SecretQuerySchema,
)
from engine.services import reports

blp = Blueprint(
    "reports", __name__, url_prefix="/api/v1/reports", description="File and track reports (public)"
)


@blp.route("")
class Reports(MethodView):
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, FiledSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """File a report; answers with the tracking id and the pelapor's secret."""
        filed = reports.create(db.session(), data=data)
        return {
            "tracking_id": filed.report.tracking_id,
            "secret": filed.secret,
            "status": filed.report.status,
        }


@blp.route("/<string:tracking_id>")
class ReportByTracking(MethodView):
    @blp.arguments(SecretQuerySchema, location="query")
    @blp.response(200, PublicReportSchema)
    def get(self, query: dict[str, Any], tracking_id: str) -> dict[str, Any]:
        """Status and public timeline; a rahasia report needs the pelapor's secret."""
        view = reports.get_public(db.session(), tracking_id=tracking_id, secret=query["secret"])
        r = view.report
        return {
            "tracking_id": r.tracking_id,
            "classification": r.classification,
            "category": r.category,
            "title": r.title,
            "body": r.body,
            "region_code": r.region_code,
            "status": r.status,
            "anonim": r.anonim,
            "rahasia": r.rahasia,
            "created_at": r.created_at,
            "closed_at": r.closed_at,
            "current_due_at": view.current_due_at,
            "timeline": view.timeline,
        }


@blp.route("/<string:tracking_id>/replies")
class Replies(MethodView):
    @blp.arguments(ReplySchema)
    @blp.response(201, ReplyResultSchema)
    def post(self, data: dict[str, Any], tracking_id: str) -> Any:
        """The pelapor supplies info on tunda, rates the follow-up, or comments."""
        secret = data.pop("secret")
        return reports.reply(db.session(), tracking_id=tracking_id, secret=secret, data=data)
