"""Schemas for filing, viewing and replying to reports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import SafeEmail, Text, pelapor_secret
from engine.models.reports import CLASSIFICATIONS, DISABILITIES, GENDERS, VULNERABLE_GROUPS
from engine.services.reports import REPLY_KINDS

PHONE = validate.Regexp(r"^\+?[0-9 ()-]{6,20}$", error="not a phone number")


class ReportCreateSchema(Schema):
    classification = Text(required=True, validate=validate.OneOf(CLASSIFICATIONS))
    category = Text(required=True, validate=validate.Length(min=2, max=64))
    title = Text(required=True, validate=validate.Length(min=5, max=200))
    body = Text(required=True, validate=validate.Length(min=20, max=20000))
    region_code = Text(required=True, validate=validate.Length(min=2, max=16))
    target_instansi = Text(load_default=None, allow_none=True, validate=validate.Length(max=32))
    anonim = fields.Boolean(load_default=False)
    rahasia = fields.Boolean(load_default=False)
    pelapor_name = Text(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=200)
    )
    pelapor_email = SafeEmail(load_default=None, allow_none=True, validate=validate.Length(max=254))
    pelapor_phone = Text(load_default=None, allow_none=True, validate=PHONE)
    # optional GESI answers, kept for statistics only: no public, feed or task view shows them;
    # accepted only with the pelapor's explicit consent (`gesi_consent`), else 422
    gesi_consent = fields.Boolean(
        load_default=False,
        metadata={
            "description": "the pelapor agrees to give the GESI answers; required (true) when any "
            "of gender, disability or vulnerable_group is given"
        },
    )
    gender = Text(load_default=None, allow_none=True, validate=validate.OneOf(GENDERS))
    disability = Text(load_default=None, allow_none=True, validate=validate.OneOf(DISABILITIES))
    vulnerable_group = Text(
        load_default=None, allow_none=True, validate=validate.OneOf(VULNERABLE_GROUPS)
    )
    external_ref = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "an integrated app's own reference (API key callers only)"},
    )


class FiledSchema(Schema):
    tracking_id = fields.String(required=True)
    secret = fields.String(
        required=True,
        metadata={
            "description": "the pelapor's secret: needed to reply, and to see a rahasia report"
        },
    )
    status = fields.String(required=True)
    external_ref = fields.String(allow_none=True)


class TimelineSchema(Schema):
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    status = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)


class PublicReportSchema(Schema):
    tracking_id = fields.String()
    classification = fields.String()
    category = fields.String()
    title = fields.String()
    body = fields.String()
    region_code = fields.String()
    status = fields.String()
    anonim = fields.Boolean()
    rahasia = fields.Boolean()
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    current_due_at = fields.DateTime(allow_none=True)
    timeline = fields.List(fields.Nested(TimelineSchema))


class ReplyResultSchema(Schema):
    tracking_id = fields.String(required=True)
    status = fields.String(required=True)


class SecretQuerySchema(Schema):
    secret = Text(load_default=None, validate=validate.Length(max=128))


class ReplySchema(Schema):
    secret = pelapor_secret()
    kind = Text(required=True, validate=validate.OneOf(REPLY_KINDS))
    text = Text(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    rating = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=5)
    )
    satisfied = fields.Boolean(load_default=None, allow_none=True)
