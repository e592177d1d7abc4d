"""Operations (bearer token): incidents, the instances an engine failure stopped, and moving
live instances of a process definition from one version to another. Who may do what is decided
by `engine.services.incidents` and `engine.services.migration`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.operations import (
    IncidentQuerySchema,
    IncidentSchema,
    MigrationRequestSchema,
    MigrationResultSchema,
    RetrySchema,
)
from engine.services import incidents, migration

blp = Blueprint(
    "operations",
    __name__,
    url_prefix="/api/v1",
    description="Operations: incidents and instance migration between process versions",
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(IncidentQuerySchema, location="query")
    @blp.response(200, IncidentSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Process instances in incident, the latest failure first (national admins)."""
        return incidents.list_incidents(db.session(), principal=current_principal(), **query)


@blp.route("/incidents/<int:instance_id>/retry")
class Retry(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, RetrySchema)
    def post(self, instance_id: int) -> dict[str, Any]:
        """Run the failed tasks of an instance in incident again, then its engine steps; the
        answer's `status` says whether it runs on (or completed) or is still in incident."""
        outcome = incidents.retry(
            db.session(), principal=current_principal(), instance_id=instance_id
        )
        return {**asdict(outcome.view), "retried": outcome.retried}


@blp.route("/process-definitions/<key>/migrations")
class Migrations(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(MigrationRequestSchema)
    @blp.response(200, MigrationResultSchema)
    def post(self, body: dict[str, Any], key: str) -> Any:
        """Move the live instances of `from_version` to `to_version` (same key): with
        `dry_run` (the default) only report, per instance, whether it can move and why not."""
        common = {
            "principal": current_principal(),
            "key": key,
            "from_version": body["from_version"],
            "to_version": body["to_version"],
        }
        if body["dry_run"]:
            return migration.plan(db.session(), **common)
        return migration.migrate(db.session(), instance_ids=body["instance_ids"], **common)
