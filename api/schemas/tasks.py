"""Schemas for staff login and the task inbox."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import QueryInteger, Text


class LoginSchema(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=64))
    password = Text(required=True, validate=validate.Length(min=1, max=256))


class TokenSchema(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class TaskSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    bpmn_id = fields.String()
    milestone = fields.String(allow_none=True)
    role = fields.String()
    lane = fields.String(allow_none=True)
    status = fields.String()
    report_id = fields.Integer()
    instansi_id = fields.Integer(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    claimed_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    sla_state = fields.String(
        allow_none=True,
        metadata={"description": "on_time | due_soon | overdue | escalated (open tasks)"},
    )
    working_days_left = fields.Float(
        allow_none=True, metadata={"description": "working days until due; negative if overdue"}
    )


class TaskReportSchema(Schema):
    tracking_id = fields.String()
    classification = fields.String()
    category = fields.String()
    title = fields.String()
    body = fields.String()
    region_code = fields.String()
    status = fields.String()


class TaskDetailSchema(TaskSchema):
    form_schema = fields.Dict(allow_none=True)
    report = fields.Nested(TaskReportSchema)


class TaskListQuerySchema(Schema):
    scope = fields.String(
        load_default="work",
        validate=validate.OneOf(("work", "all")),
        metadata={
            "description": "work: tasks I may act on; all: every instansi's open tasks, to "
            "read (national admins only, 403 for others)"
        },
    )
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    offset = QueryInteger(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class CompleteSchema(Schema):
    data = fields.Dict(
        keys=Text(validate=validate.Length(max=64)),
        required=True,
        metadata={"description": "the form data the BPMN task asks for"},
    )
