"""Schemas of the public feed (no login) and of officers' redactions."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import QueryInteger, Text
from engine.services import public_feed as pf


class FeedQuerySchema(Schema):
    q = Text(
        load_default="",
        validate=validate.Length(max=pf.MAX_QUERY),
        metadata={"description": "words that must all appear in the title or the body"},
    )
    instansi = Text(
        load_default=None,
        validate=validate.Length(max=32),
        metadata={"description": "code of the instansi handling the report"},
    )
    region = Text(
        load_default=None,
        validate=validate.Length(max=16),
        metadata={"description": "a province code (its regencies included) or a regency code"},
    )
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=pf.MAX_PAGE))
    per_page = QueryInteger(
        load_default=pf.PER_PAGE, validate=validate.Range(min=1, max=pf.MAX_PER_PAGE)
    )


class PublicEntrySchema(Schema):
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    status = fields.String(allow_none=True)
    text = fields.String(allow_none=True, metadata={"description": "masked and redacted"})
    instansi_name = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    satisfied = fields.Boolean(allow_none=True)


class PublicFeedReportSchema(Schema):
    tracking_id = fields.String(required=True)
    classification = fields.String(required=True)
    category = fields.String(required=True)
    title = fields.String(required=True, metadata={"description": "masked and redacted"})
    body = fields.String(required=True, metadata={"description": "masked and redacted"})
    status = fields.String(required=True)
    anonim = fields.Boolean(required=True)
    pelapor_name = fields.String(
        allow_none=True, metadata={"description": "null when anonim; masked and redacted"}
    )
    region_code = fields.String(required=True)
    region_name = fields.String(required=True)
    instansi_code = fields.String(allow_none=True)
    instansi_name = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)
    last_activity_at = fields.DateTime(required=True)
    timeline = fields.List(fields.Nested(PublicEntrySchema), required=True)


class FeedPageSchema(Schema):
    items = fields.List(fields.Nested(PublicFeedReportSchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    has_next = fields.Boolean(required=True)


class RedactionSchema(Schema):
    phrases = fields.List(
        Text(validate=validate.Length(min=pf.MIN_PHRASE, max=pf.MAX_PHRASE)),
        required=True,
        validate=validate.Length(min=1, max=pf.MAX_PHRASES),
        metadata={"description": "phrases to replace by [disamarkan] in every public view"},
    )


class RedactionResultSchema(Schema):
    tracking_id = fields.String(required=True)
    phrases = fields.List(fields.String(), required=True)
