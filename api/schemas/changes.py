"""Schemas of the change feed (`GET /api/v1/changes`)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from sla import changes


class ChangeQuerySchema(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "the next_cursor of the previous page (0: from the start)"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=changes.MAX_PAGE))
    source = Text(
        load_default=None,
        validate=validate.OneOf(changes.SOURCES),
        metadata={
            "description": "channel: reports your API key filed (default for keys); instansi: "
            "reports your instansi handles (default for staff)"
        },
    )


class ChangeSchema(Schema):
    seq = fields.Integer(metadata={"description": "this change's cursor"})
    event_id = fields.String(metadata={"description": "the id its webhooks carry (plus -w<id>)"})
    type = fields.String()
    created_at = fields.DateTime()
    data = fields.Dict()


class ChangePageSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))
    next_cursor = fields.Integer(metadata={"description": "ask with after=<this> next"})
