"""Schemas of the registry pickers: regions and instansi search."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import QueryInteger, Text


class RegionQuerySchema(Schema):
    parent = Text(
        load_default=None,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "a province code: its regencies and cities; none: provinces"},
    )


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    parent_code = fields.String(allow_none=True)


class InstansiQuerySchema(Schema):
    q = Text(load_default="", validate=validate.Length(max=100))
    region = Text(load_default=None, validate=validate.Length(min=1, max=16))
    limit = QueryInteger(load_default=20, validate=validate.Range(min=1, max=50))


class InstansiSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    region_code = fields.String(allow_none=True)
    supervisor_code = fields.String(allow_none=True)
