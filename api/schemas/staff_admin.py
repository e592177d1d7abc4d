"""Schemas of staff administration: users, their roles, units, delegation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import SafeEmail, Text
from engine.db import MAX_ID
from engine.models.users import ROLES
from engine.services.staff_admin import MAX_PASSWORD, MIN_PASSWORD


class InstansiQuerySchema(Schema):
    instansi = Text(required=True, validate=validate.Length(min=1, max=32))


class RoleGrantSchema(Schema):
    role = Text(required=True, validate=validate.OneOf(ROLES))
    instansi_code = Text(load_default=None, allow_none=True, validate=validate.Length(max=32))
    unit_code = Text(load_default=None, allow_none=True, validate=validate.Length(max=64))


class UserCreateSchema(Schema):
    username = Text(
        required=True,
        validate=[
            validate.Length(min=3, max=64),
            validate.Regexp(r"^[a-z0-9][a-z0-9._-]*$", error="lowercase letters, digits, . _ -"),
        ],
    )
    full_name = Text(required=True, validate=validate.Length(min=1, max=200))
    email = SafeEmail(load_default=None, allow_none=True, validate=validate.Length(max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=MIN_PASSWORD, max=MAX_PASSWORD)
    )
    roles = fields.List(
        fields.Nested(RoleGrantSchema), required=True, validate=validate.Length(min=1, max=20)
    )


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    email = fields.String(allow_none=True)
    active = fields.Boolean()
    roles = fields.List(fields.Nested(RoleGrantSchema))
    claimed_open_tasks = fields.Integer()


class DelegateSchema(Schema):
    to_user_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )


class DelegatedSchema(Schema):
    moved = fields.Integer()
    kept = fields.Integer(metadata={"description": "tasks the colleague may not do"})


class UnitCreateSchema(Schema):
    instansi = Text(required=True, validate=validate.Length(min=1, max=32))
    code = Text(required=True, validate=validate.Length(min=3, max=64))
    name = Text(required=True, validate=validate.Length(min=2, max=200))


class UnitSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
