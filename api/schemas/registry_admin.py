"""Schemas of the instansi registry's administration: rename, merge, split, and their results."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from engine.services.registry_admin import MAX_CODE, MAX_NAME, MAX_UNITS, MIN_NAME

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", error="letters, digits, . _ -")


class InstansiRenameSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=MIN_NAME, max=MAX_NAME))


class InstansiMergeSchema(Schema):
    into = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_CODE),
        metadata={"description": "the code of the instansi that takes over"},
    )


class InstansiSplitSchema(Schema):
    code = Text(
        required=True,
        validate=[validate.Length(min=1, max=MAX_CODE), CODE],
        metadata={"description": "the new instansi's code"},
    )
    name = Text(required=True, validate=validate.Length(min=MIN_NAME, max=MAX_NAME))
    units = fields.List(
        Text(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=MAX_UNITS),
        metadata={"description": "codes of the source's units that move to the new instansi"},
    )


class RegistryChangeSchema(Schema):
    action = fields.String(metadata={"description": "renamed | merged | split"})
    code = fields.String()
    name = fields.String()
    active = fields.Boolean()
    target = fields.String(
        allow_none=True, metadata={"description": "merge: the target; split: the new instansi"}
    )
    reports = fields.Integer(metadata={"description": "open reports moved"})
    tasks = fields.Integer(metadata={"description": "open tasks moved"})
    units = fields.Integer()
    users = fields.Integer(metadata={"description": "users whose roles moved"})
    supervised = fields.Integer(metadata={"description": "instansi now supervised by the target"})


class RegistryUnitSchema(Schema):
    code = fields.String()
    name = fields.String()


class InstansiDetailSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    active = fields.Boolean()
    region_code = fields.String(allow_none=True)
    supervisor_code = fields.String(allow_none=True)
    supervisor_name = fields.String(allow_none=True)
    units = fields.List(fields.Nested(RegistryUnitSchema))
    supervised = fields.List(fields.String())
    open_reports = fields.Integer()
