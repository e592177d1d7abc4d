"""Schemas of the service-level admin API: calendar days, SLA policies, office hours, webhooks,
the outbox."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.fields import Text
from engine.models.reports import CLASSIFICATIONS
from sla import admin_webhooks, changes
from sla.admin_hours import HHMM
from sla.admin_webhooks import MAX_URL
from sla.calendar import ADJUSTMENT_KINDS
from sla.calendar_service import FIRST_YEAR, LAST_YEAR, MAX_REASON
from sla.outbox import STATUSES
from sla.policies import MILESTONES, WORKING_DAYS, WORKING_HOURS


def _instansi(description: str, **kwargs: Any) -> Text:
    """An instansi code; optional (None) unless `required=True` is passed."""
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", None)
    return Text(
        validate=validate.Length(min=1, max=32), metadata={"description": description}, **kwargs
    )


def _region() -> Text:
    return Text(
        load_default=None,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "a province (34) or regency/city (34.04) code"},
    )


def _count(low: int, high: int, description: str, **kwargs: Any) -> fields.Integer:
    """A whole number in [low, high]; JSON bodies pass `strict=True` (no "3" for 3)."""
    return fields.Integer(
        validate=validate.Range(min=low, max=high),
        metadata={"description": description},
        **kwargs,
    )


# -- calendar -------------------------------------------------------------------------------


class CalendarQuerySchema(Schema):
    year = _count(FIRST_YEAR, LAST_YEAR, "the year to list", required=True)
    region_code = _region()
    instansi_code = _instansi("only adjustments that apply to this instansi")

    @validates_schema
    def _not_both(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _at_most_one(data, "region_code", "instansi_code")


class CalendarDaySchema(Schema):
    day = fields.Date(
        required=True,
        validate=validate.Range(min=date(FIRST_YEAR, 1, 1), max=date(LAST_YEAR, 12, 31)),
        metadata={"description": "YYYY-MM-DD"},
    )
    kind = Text(required=True, validate=validate.OneOf(ADJUSTMENT_KINDS))
    reason = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_REASON),
        metadata={"description": "why (a decree, a disaster closure); shown on skipped days"},
    )
    region_code = _region()
    instansi_code = _instansi("or one instansi (give at most one of the two)")

    @validates_schema
    def _not_both(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _at_most_one(data, "region_code", "instansi_code")


def _at_most_one(data: dict[str, Any], first: str, second: str) -> None:
    if data.get(first) is not None and data.get(second) is not None:
        raise ValidationError(f"give {first} or {second}, not both", field_name=first)


class AdjustmentSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    kind = fields.String()
    reason = fields.String()
    scope = fields.String(metadata={"description": "national | region | instansi"})
    region_code = fields.String(allow_none=True)
    instansi_code = fields.String(allow_none=True)
    created_at = fields.DateTime()
    removed_at = fields.DateTime(allow_none=True)


class AdjustmentChangeSchema(Schema):
    adjustment = fields.Nested(AdjustmentSchema, required=True)
    moved = fields.Integer(
        required=True, metadata={"description": "open tasks whose due moment moved"}
    )


# -- SLA policies ---------------------------------------------------------------------------


class PolicyQuerySchema(Schema):
    instansi = _instansi("an instansi code; none: the national policies")


class PolicySetSchema(Schema):
    milestone = Text(required=True, validate=validate.OneOf(MILESTONES))
    duration = _count(1, 365, "how long, in `unit`", required=True, strict=True)
    unit = Text(
        required=True,
        validate=validate.OneOf((WORKING_DAYS, WORKING_HOURS)),
        metadata={"description": "wd (working days) or wh (office hours)"},
    )
    reminder = _count(0, 364, "remind this long before due, same unit", load_default=1, strict=True)
    escalation_every = _count(
        1, 60, "working days between escalation levels", load_default=2, strict=True
    )
    instansi = _instansi("an instansi code; none: the national maximum")
    classification = Text(
        load_default=None, allow_none=True, validate=validate.OneOf(CLASSIFICATIONS)
    )


class PolicySchema(Schema):
    id = fields.Integer()
    instansi_code = fields.String(allow_none=True)
    milestone = fields.String()
    classification = fields.String(allow_none=True)
    duration = fields.Integer()
    unit = fields.String()
    reminder = fields.Integer()
    escalation_every = fields.Integer()
    created_at = fields.DateTime()


class EffectivePolicySchema(Schema):
    milestone = fields.String()
    duration = fields.Integer()
    unit = fields.String()
    reminder = fields.Integer()
    escalation_every = fields.Integer()
    source = fields.String(metadata={"description": "which level the policy comes from"})


class PolicyListingSchema(Schema):
    instansi_code = fields.String(allow_none=True)
    effective = fields.List(fields.Nested(EffectivePolicySchema))
    policies = fields.List(fields.Nested(PolicySchema))


class PolicyChangeSchema(Schema):
    policy = fields.Nested(PolicySchema, required=True)
    moved = fields.Integer(
        required=True, metadata={"description": "open tasks whose due moment moved"}
    )


# -- office hours ---------------------------------------------------------------------------


def _hhmm(description: str) -> Text:
    return Text(
        required=True,
        validate=validate.Regexp(
            re.compile(rf"{HHMM.pattern}\Z"), error="Not a time of day as HH:MM (e.g. 07:30)."
        ),
        metadata={"description": description, "example": "07:30"},
    )


class OfficeHoursSetSchema(Schema):
    opens = _hhmm("opening time, HH:MM local to the instansi")
    closes = _hhmm("closing time, HH:MM local; 1 to 16 hours after opening")


class OfficeHoursSchema(Schema):
    instansi_code = fields.String()
    timezone = fields.String(metadata={"description": "the instansi's time zone (IANA)"})
    opens = fields.String(metadata={"description": "HH:MM local"})
    closes = fields.String(metadata={"description": "HH:MM local"})
    default = fields.Boolean(
        metadata={"description": "true: the instansi has no hours of its own (08:00-16:00)"}
    )


class OfficeHoursChangeSchema(Schema):
    office_hours = fields.Nested(OfficeHoursSchema, required=True)
    moved = fields.Integer(
        required=True, metadata={"description": "open tasks whose due moment moved"}
    )


# -- webhooks -------------------------------------------------------------------------------


class WebhookQuerySchema(Schema):
    instansi = _instansi("an instansi code; none: every endpoint you may see")


class WebhookCreateSchema(Schema):
    instansi = _instansi(
        "the instansi whose events are sent (a channel webhook: its API key's, by default)"
    )
    url = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_URL),
        metadata={"description": "http(s) URL the signed events are POSTed to"},
    )
    source = Text(
        load_default="instansi",
        validate=validate.OneOf(changes.SOURCES),
        metadata={
            "description": "instansi: changes of the reports the instansi handles, and its "
            "supervisors' alerts; channel: changes of the reports an app's API key filed"
        },
    )
    api_key_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "channel webhooks: the app's key (default: the calling key)"},
    )
    event_types = fields.List(
        Text(validate=validate.OneOf(changes.TYPES + admin_webhooks.ALERT_TYPES)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "only these event types (none: every type)"},
    )


class WebhookSchema(Schema):
    id = fields.Integer()
    instansi_code = fields.String()
    url = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    source = fields.String(metadata={"description": "instansi | channel"})
    api_key_id = fields.Integer(allow_none=True)
    event_types = fields.List(fields.String(), allow_none=True)


class DeliveryQuerySchema(Schema):
    limit = _count(
        1, admin_webhooks.MAX_DELIVERIES, "at most this many, newest first", load_default=50
    )


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        metadata={"description": "HMAC-SHA256 signing secret; shown in this answer only"}
    )


# -- outbox ---------------------------------------------------------------------------------


class OutboxQuerySchema(Schema):
    status = Text(load_default=None, validate=validate.OneOf(STATUSES))
    limit = _count(1, 200, "at most this many, newest first", load_default=50)


class OutboxMessageSchema(Schema):
    id = fields.Integer()
    event_id = fields.String()
    channel = fields.String(metadata={"description": "email | webhook"})
    recipient = fields.String()
    subject = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "pending | sent | dead"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_error = fields.String(allow_none=True)
    report_id = fields.Integer(allow_none=True)
    webhook_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
