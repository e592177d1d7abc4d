"""Schemas of the process-definition API used by designers (deploy, validate, versions)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from engine.db import MAX_ID


class TargetQuerySchema(Schema):
    instansi = Text(
        load_default=None,
        validate=validate.Length(min=1, max=32),
        metadata={
            "description": "instansi code the SOP is for; default: the designer's own instansi, "
            "or the national default SOP for a national designer"
        },
    )


class FindingSchema(Schema):
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = fields.String()


class ValidationSchema(Schema):
    valid = fields.Boolean()
    errors = fields.List(fields.Nested(FindingSchema))
    warnings = fields.List(fields.Nested(FindingSchema))


class DeployedSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    kind = fields.String()
    instansi = fields.String(allow_none=True)
    created = fields.Boolean(metadata={"description": "false when identical XML was deployed"})
    current = fields.Boolean(metadata={"description": "new reports start on this version"})
    warnings = fields.List(fields.Nested(FindingSchema))


class VersionSchema(Schema):
    version = fields.Integer()
    checksum = fields.String()
    process_id = fields.String()
    created_at = fields.DateTime()
    released_at = fields.DateTime()
    running_instances = fields.Integer()
    current = fields.Boolean()


class DefinitionSchema(Schema):
    key = fields.String()
    kind = fields.String()
    instansi = fields.String(allow_none=True)
    versions = fields.List(fields.Nested(VersionSchema))


class VersionPathSchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
