"""Schemas of the burst endpoints: many tasks at once, duplicates, group follow-up."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from api.schemas.tasks import CompleteSchema
from engine.db import MAX_ID
from engine.services.bursts import MAX_BATCH


class CompleteManySchema(CompleteSchema):
    task_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
        metadata={"description": f"the tasks to complete with the same data (1 to {MAX_BATCH})"},
    )


class ItemResultSchema(Schema):
    task_id = fields.Integer()
    status = fields.Integer(metadata={"description": "200 when completed, else the refusal"})
    code = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    tracking_id = fields.String(allow_none=True)


class BatchResultSchema(Schema):
    completed = fields.Integer()
    results = fields.List(fields.Nested(ItemResultSchema))


class DuplicateSchema(Schema):
    duplicate = Text(required=True, validate=validate.Length(min=1, max=32))


class DuplicatesSchema(Schema):
    tracking_id = fields.String()
    duplicates = fields.List(fields.String())
