"""Public deadline calculator: when N working days (or office hours) from a moment end for an
instansi, on its own calendar and time zone, and which days were skipped and why."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC
from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.sla import DueQuerySchema, DueSchema
from sla import calendar_service

blp = Blueprint(
    "sla",
    __name__,
    url_prefix="/api/v1/sla",
    description="Deadlines on the working-day calendar (public)",
)


@blp.route("/due")
class DueMoment(MethodView):
    @blp.arguments(DueQuerySchema, location="query")
    @blp.response(200, DueSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """When a deadline ends: 23:59:59 local of the Nth working day, or the end of the Nth
        office hour; national holidays, cuti bersama and admin adjustments are skipped."""
        instansi, due = calendar_service.explain_due(
            db.session(),
            start=query["start"],
            working_days=query.get("working_days"),
            working_hours=query.get("working_hours"),
            instansi_code=query["instansi"],
        )
        body: dict[str, Any] = {
            "start": query["start"],
            "instansi": {
                "code": instansi.code,
                "name": instansi.name,
                "timezone": instansi.timezone,
            },
            "start_day": due.start_day,
            "due_at": due.local_due,
            "due_at_utc": due.due_at.astimezone(UTC),
            "skipped": [asdict(day) for day in due.skipped],
        }
        for name in ("working_days", "working_hours"):
            if query.get(name) is not None:
                body[name] = query[name]
        return body
