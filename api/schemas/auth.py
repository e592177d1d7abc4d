"""Schemas of staff accounts: password reset and the API keys of integrated agency apps."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from engine.services.api_keys import MAX_NAME, PERMISSIONS
from engine.services.staff_admin import MAX_PASSWORD, MIN_PASSWORD


class ResetRequestSchema(Schema):
    login = Text(
        required=True,
        validate=validate.Length(min=1, max=254),
        metadata={"description": "the username or the email address of the account"},
    )


class ResetAcceptedSchema(Schema):
    message = fields.String(
        required=True,
        metadata={"description": "the same text whether or not an account matched"},
    )


class ResetConfirmSchema(Schema):
    token = Text(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "the token of the mailed link"},
    )
    password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(min=MIN_PASSWORD, max=MAX_PASSWORD),
    )


class ApiKeyQuerySchema(Schema):
    instansi = Text(load_default=None, validate=validate.Length(min=1, max=32))


class ApiKeyCreateSchema(Schema):
    name = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_NAME),
        metadata={"description": "which app uses it, e.g. 'SIMPEL Kabupaten Sleman'"},
    )
    instansi = Text(required=True, validate=validate.Length(min=1, max=32))
    permissions = fields.List(
        fields.String(validate=validate.OneOf(PERMISSIONS)),
        required=True,
        validate=validate.Length(min=1, max=len(PERMISSIONS)),
    )


class ApiKeySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "the start of the key, to tell keys apart"})
    instansi = fields.String(attribute="instansi_code")
    permissions = fields.List(fields.String())
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class CreatedApiKeySchema(ApiKeySchema):
    key = fields.String(
        metadata={"description": "the key itself: shown only now, store it in the app's secrets"}
    )
