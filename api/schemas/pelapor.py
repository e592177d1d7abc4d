"""Schemas for the pelapor's own requests: re-sending the tracking link."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import SafeEmail


class ResendLinkSchema(Schema):
    email = SafeEmail(
        required=True,
        validate=validate.Length(max=254),
        metadata={"description": "the address the pelapor gave when filing"},
    )


class ResendAcceptedSchema(Schema):
    message = fields.String(
        required=True,
        metadata={"description": "the same text whether or not the address is known"},
    )
