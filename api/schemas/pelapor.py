"""Schemas for the pelapor's own requests: re-sending the tracking link, deleting the optional
GESI answers, seeing the personal data held for a report and deleting their identity."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import SafeEmail, pelapor_secret
from engine.services import gesi, privacy


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


class PelaporSecretSchema(Schema):
    """What a pelapor request on their own report carries: the report's secret."""

    secret = pelapor_secret()


class GesiDeletedSchema(Schema):
    tracking_id = fields.String(required=True)
    deleted = fields.List(
        fields.String(validate=validate.OneOf(gesi.FIELDS)),
        required=True,
        metadata={"description": "the answers that were deleted now (empty: none were left)"},
    )


class IdentitySchema(Schema):
    pelapor_name = fields.String(allow_none=True, required=True)
    pelapor_email = fields.String(allow_none=True, required=True)
    pelapor_phone = fields.String(allow_none=True, required=True)


class GesiAnswersSchema(Schema):
    gender = fields.String(allow_none=True, required=True)
    disability = fields.String(allow_none=True, required=True)
    vulnerable_group = fields.String(allow_none=True, required=True)


class HeldAttachmentSchema(Schema):
    name = fields.String(required=True, metadata={"description": "the file name as uploaded"})
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    created_at = fields.DateTime(required=True)


class HeldReplySchema(Schema):
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)


class HeldEmailSchema(Schema):
    subject = fields.String(allow_none=True, required=True)
    queued_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"description": "pending, sent or dead"})


class PersonalDataSchema(Schema):
    tracking_id = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    anonim = fields.Boolean(required=True)
    rahasia = fields.Boolean(required=True)
    identity = fields.Nested(IdentitySchema, required=True)
    gesi = fields.Nested(GesiAnswersSchema, required=True)
    attachments = fields.List(fields.Nested(HeldAttachmentSchema), required=True)
    replies = fields.List(
        fields.Nested(HeldReplySchema),
        required=True,
        metadata={"description": "what the pelapor wrote: information, comments, rating texts"},
    )
    emails = fields.List(
        fields.Nested(HeldEmailSchema),
        required=True,
        metadata={"description": "the notifications emailed to the pelapor"},
    )


class IdentityDeletedSchema(Schema):
    tracking_id = fields.String(required=True)
    deleted = fields.List(
        fields.String(validate=validate.OneOf(privacy.ERASABLE)),
        required=True,
        metadata={"description": "what was deleted now (empty: nothing was left)"},
    )
    anonim = fields.Boolean(required=True, metadata={"description": "always true afterwards"})
