"""Bursts (staff, bearer token or session cookie): complete many tasks with the same data,
link duplicate reports to a main report, and publish one follow-up for a linked group."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.bursts import (
    BatchResultSchema,
    CompleteManySchema,
    DuplicateSchema,
    DuplicatesSchema,
)
from api.schemas.tasks import CompleteSchema
from engine.services import bursts
from engine.services.bursts import ItemResult

blp = Blueprint(
    "bursts", __name__, url_prefix="/api/v1", description="Bursts: many reports handled as one"
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def _batch(results: list[ItemResult]) -> dict[str, Any]:
    return {"completed": sum(r.status == 200 for r in results), "results": results}


@blp.route("/tasks/complete-many")
class CompleteMany(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(CompleteManySchema)
    @blp.response(200, BatchResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Complete many tasks with the same form data (e.g. forward a burst to one instansi);
        each task is done on its own and gets its own answer."""
        return _batch(
            bursts.complete_many(
                db.session(),
                principal=current_principal(),
                task_ids=body["task_ids"],
                data=body["data"],
            )
        )


@blp.route("/tasks/<int:task_id>/complete-group")
class CompleteGroup(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(CompleteSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, body: dict[str, Any], task_id: int) -> Any:
        """Complete a main report's task and the same step of each linked duplicate, with the
        same data (one follow-up published for the group; every pelapor is notified)."""
        return _batch(
            bursts.complete_group(
                db.session(), principal=current_principal(), task_id=task_id, data=body["data"]
            )
        )


@blp.route("/reports/<string:tracking_id>/duplicates")
class Duplicates(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DuplicatesSchema)
    def get(self, tracking_id: str) -> Any:
        """The duplicates linked to this main report."""
        found = bursts.duplicates_of(
            db.session(), principal=current_principal(), main_tracking_id=tracking_id
        )
        return {"tracking_id": tracking_id, "duplicates": found}

    @blp.doc(security=SECURITY)
    @blp.arguments(DuplicateSchema)
    @blp.response(201, DuplicatesSchema)
    def post(self, body: dict[str, Any], tracking_id: str) -> Any:
        """Link a report as a duplicate of this main report."""
        principal = current_principal()
        bursts.link_duplicate(
            db.session(),
            principal=principal,
            main_tracking_id=tracking_id,
            duplicate_tracking_id=body["duplicate"],
        )
        found = bursts.duplicates_of(
            db.session(), principal=principal, main_tracking_id=tracking_id
        )
        return {"tracking_id": tracking_id, "duplicates": found}


@blp.route("/reports/<string:tracking_id>/duplicates/<string:duplicate>")
class Duplicate(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DuplicatesSchema)
    def delete(self, tracking_id: str, duplicate: str) -> Any:
        """Unlink a duplicate from this main report."""
        principal = current_principal()
        bursts.unlink_duplicate(
            db.session(),
            principal=principal,
            main_tracking_id=tracking_id,
            duplicate_tracking_id=duplicate,
        )
        found = bursts.duplicates_of(
            db.session(), principal=principal, main_tracking_id=tracking_id
        )
        return {"tracking_id": tracking_id, "duplicates": found}
