"""Supervisor interventions on an escalated report: remind, new deadline, reassign, take over,
and the report's escalations (bearer token; national admins and the supervising instansi)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.supervision import (
    DeadlineSchema,
    OutcomeSchema,
    ReassignSchema,
    RemindSchema,
    SupervisionSchema,
    TakeOverSchema,
)
from sla import interventions

blp = Blueprint(
    "supervision",
    __name__,
    url_prefix="/api/v1/reports",
    description="Supervisor interventions on escalated reports (bearer token)",
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/<string:tracking_id>/supervision")
class Supervision(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, SupervisionSchema)
    def get(self, tracking_id: str) -> Any:
        """The report's escalations and its open task."""
        return interventions.get(
            db.session(), principal=current_principal(), tracking_id=tracking_id
        )


@blp.route("/<string:tracking_id>/supervision/remind")
class Remind(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(RemindSchema)
    @blp.response(200, OutcomeSchema)
    def post(self, body: dict[str, Any], tracking_id: str) -> Any:
        """Alert and email whoever holds the open task, with an optional message."""
        return interventions.remind(
            db.session(), principal=current_principal(), tracking_id=tracking_id, **body
        )


@blp.route("/<string:tracking_id>/supervision/deadline")
class Deadline(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(DeadlineSchema)
    @blp.response(200, OutcomeSchema)
    def post(self, body: dict[str, Any], tracking_id: str) -> Any:
        """Set a new deadline for the open task: `working_days` from now or `due_at`."""
        return interventions.set_deadline(
            db.session(), principal=current_principal(), tracking_id=tracking_id, **body
        )


@blp.route("/<string:tracking_id>/supervision/reassign")
class Reassign(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(ReassignSchema)
    @blp.response(200, OutcomeSchema)
    def post(self, body: dict[str, Any], tracking_id: str) -> Any:
        """Move the open task to another unit, or the report to another instansi."""
        return interventions.reassign(
            db.session(), principal=current_principal(), tracking_id=tracking_id, **body
        )


@blp.route("/<string:tracking_id>/supervision/take-over")
class TakeOver(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(TakeOverSchema)
    @blp.response(200, OutcomeSchema)
    def post(self, body: dict[str, Any], tracking_id: str) -> Any:
        """The supervising instansi takes the open task; the acting user holds it."""
        return interventions.take_over(
            db.session(), principal=current_principal(), tracking_id=tracking_id, **body
        )
