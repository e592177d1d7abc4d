"""Schemas of the operations API: incidents (instances an engine failure stopped) and moving
live instances between versions of a process definition."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.schemas.fields import QueryInteger
from engine.db import MAX_ID

MAX_INSTANCES = 1000


def _id(description: str, **kwargs: Any) -> fields.Integer:
    """A positive 32-bit whole number given as a JSON number (no "3" for 3)."""
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": description},
        **kwargs,
    )


class IncidentQuerySchema(Schema):
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    offset = QueryInteger(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class IncidentSchema(Schema):
    instance_id = fields.Integer()
    report_id = fields.Integer()
    tracking_id = fields.String()
    definition_key = fields.String()
    definition_version = fields.Integer()
    instansi_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "running | incident | completed | cancelled"})
    incident = fields.String(
        allow_none=True, metadata={"description": "the failed task ids and the engine's error"}
    )
    incident_at = fields.DateTime(allow_none=True)
    failed_tasks = fields.List(
        fields.String(), metadata={"description": "BPMN ids of the tasks in state ERROR"}
    )


class RetrySchema(IncidentSchema):
    retried = fields.List(fields.String(), metadata={"description": "BPMN ids run again"})


class MigrationRequestSchema(Schema):
    from_version = _id("the version the instances run on now", required=True)
    to_version = _id("the version to move them to (same key)", required=True)
    dry_run = fields.Boolean(
        load_default=True, metadata={"description": "only report what would move (default)"}
    )
    instance_ids = fields.List(
        _id("a live instance of from_version"),
        load_default=None,
        validate=validate.Length(min=1, max=MAX_INSTANCES),
        metadata={"description": "move only these (default: every instance that can move)"},
    )


class PlanEntrySchema(Schema):
    instance_id = fields.Integer()
    report_id = fields.Integer()
    tracking_id = fields.String()
    status = fields.String()
    can_move = fields.Boolean()
    reasons = fields.List(fields.String(), metadata={"description": "why it cannot move"})
    changes = fields.List(
        fields.String(), metadata={"description": "live tasks that take a changed definition"}
    )
    moved = fields.Boolean()


class MigrationResultSchema(Schema):
    key = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    dry_run = fields.Boolean()
    instances = fields.List(fields.Nested(PlanEntrySchema))
    moved = fields.List(fields.Integer())
    skipped = fields.List(fields.Integer())
