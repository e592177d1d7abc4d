"""Schemas for the alert inbox."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import QueryInteger


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    report_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class AlertInboxSchema(Schema):
    unread = fields.Integer(required=True)
    alerts = fields.List(fields.Nested(AlertSchema), required=True)


class AlertQuerySchema(Schema):
    unread_only = fields.Boolean(load_default=False)
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
