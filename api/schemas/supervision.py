"""Schemas for supervisor interventions on escalated reports."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.fields import Text
from api.schemas.sla import OffsetDateTime
from sla.interventions import MAX_TEXT, MAX_WORKING_DAYS


def _reason() -> Text:
    return Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_TEXT),
        metadata={"description": "why (kept on the report's internal timeline and audit trail)"},
    )


def _exactly_one(data: dict[str, Any], first: str, second: str) -> None:
    if (data.get(first) is None) == (data.get(second) is None):
        raise ValidationError(f"give exactly one of {first} and {second}", field_name=first)


class RemindSchema(Schema):
    message = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_TEXT),
        metadata={"description": "a message for the officers holding the task"},
    )


class DeadlineSchema(Schema):
    reason = _reason()
    working_days = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_WORKING_DAYS),
        metadata={"description": "working days from now on the responsible instansi's calendar"},
    )
    due_at = OffsetDateTime(
        load_default=None,
        metadata={"description": "or an explicit moment with its UTC offset"},
    )

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _exactly_one(data, "working_days", "due_at")


class ReassignSchema(Schema):
    reason = _reason()
    unit = Text(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "another unit of the task's instansi (unit tasks only)"},
    )
    instansi = Text(
        load_default=None,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "another instansi: its SOP starts afresh"},
    )

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _exactly_one(data, "unit", "instansi")


class TakeOverSchema(Schema):
    reason = _reason()


class SupervisedTaskSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    milestone = fields.String(allow_none=True)
    role = fields.String()
    status = fields.String()
    instansi_id = fields.Integer(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True)


class OutcomeSchema(Schema):
    action = fields.String(required=True)
    tracking_id = fields.String(required=True)
    task = fields.Nested(SupervisedTaskSchema, required=True)
    reminded = fields.Integer(metadata={"description": "remind: officers alerted"})
    due_at = fields.String(metadata={"description": "deadline: the new due moment (UTC)"})
    previous_due_at = fields.String(allow_none=True)
    level = fields.Integer(metadata={"description": "the level a further lapse escalates to"})
    from_unit = fields.String(allow_none=True)
    to_unit = fields.String()
    from_instansi = fields.String(allow_none=True)
    to_instansi = fields.String()
    role = fields.String(metadata={"description": "take-over: the role the task is held in"})


class InstansiRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class EscalationSchema(Schema):
    level = fields.Integer()
    reason = fields.String(metadata={"description": "overdue | outer_limit"})
    task_id = fields.Integer(allow_none=True)
    at = fields.DateTime()
    to_instansi = fields.Nested(InstansiRefSchema)


class SupervisionSchema(Schema):
    tracking_id = fields.String(required=True)
    open_task = fields.Nested(SupervisedTaskSchema, allow_none=True)
    escalations = fields.List(fields.Nested(EscalationSchema), required=True)
