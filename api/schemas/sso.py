"""Schemas of an instansi's SSO settings (its OpenID provider); the client secret is write-only."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from engine.services.oidc_discovery import MAX_URL
from engine.services.sso_config import MAX_DOMAINS

MAX_CLIENT_ID = 255
MAX_SECRET = 1024
MAX_DOMAIN = 253


class SsoSetSchema(Schema):
    issuer = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_URL),
        metadata={
            "description": "the provider's issuer URL (https); its /.well-known/openid-"
            "configuration is fetched and checked before anything is stored"
        },
    )
    client_id = Text(required=True, validate=validate.Length(min=1, max=MAX_CLIENT_ID))
    client_secret = Text(
        load_default=None,
        validate=validate.Length(min=1, max=MAX_SECRET),
        load_only=True,
        metadata={"description": "required the first time; left out: the stored one stays"},
    )
    enabled = fields.Boolean(load_default=True)
    email_domains = fields.List(
        Text(validate=validate.Length(min=1, max=MAX_DOMAIN)),
        required=True,
        validate=validate.Length(min=1, max=MAX_DOMAINS),
        metadata={
            "description": "the email domains whose staff this provider vouches for, e.g. "
            '["slemankab.go.id"]; a first SSO login links only an address of one of them'
        },
    )


class SsoConfigSchema(Schema):
    instansi_code = fields.String()
    configured = fields.Boolean(
        metadata={"description": "false: the instansi has no provider (the rest is empty)"}
    )
    issuer = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    enabled = fields.Boolean()
    email_domains = fields.List(fields.String())
    has_client_secret = fields.Boolean(
        metadata={"description": "a secret is stored (it is never returned)"}
    )
    redirect_uri = fields.String(
        metadata={"description": "the callback to register at the provider for this client"}
    )
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
