"""Test-mode controls: read, set and reset the clock every process shares.

Registered only when the setting `TEST_CLOCK` (`LAPOR_TEST_CLOCK`) is on, which never happens in
production: otherwise every `/api/v1/testing` URL is a plain 404. No token is asked for, so that
browser and fault tests can move time from outside; that is why it must stay off in production.
Its two small schemas live here rather than in `api/schemas`, so that everything test-only is in
one module.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.sla import OffsetDateTime
from sla import shared_clock

blp = Blueprint(
    "testing",
    __name__,
    url_prefix="/api/v1/testing",
    description="Test mode only (LAPOR_TEST_CLOCK): the clock shared by every process",
)


class SetClockSchema(Schema):
    now = OffsetDateTime(
        metadata={"description": "pin every process's clock to this moment (with its offset)"}
    )
    offset_seconds = fields.Integer(
        strict=True,
        validate=validate.Range(
            min=-shared_clock.MAX_OFFSET_SECONDS, max=shared_clock.MAX_OFFSET_SECONDS
        ),
        metadata={"description": "or run every clock this many seconds off the wall clock"},
    )

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("now" in data) == ("offset_seconds" in data):
            raise ValidationError("give exactly one of now and offset_seconds", field_name="now")


class ClockSchema(Schema):
    now = fields.AwareDateTime(metadata={"description": "the moment on the shared clock"})
    fixed_at = fields.AwareDateTime(allow_none=True)
    offset_seconds = fields.Integer()
    shared = fields.Boolean(metadata={"description": "false: every process is on the wall"})
    updated_at = fields.AwareDateTime(allow_none=True)


@blp.route("/clock")
class Clock(MethodView):
    @blp.response(200, ClockSchema)
    def get(self) -> Any:
        """The shared clock's moment and setting."""
        return shared_clock.read(db.session())

    @blp.arguments(SetClockSchema)
    @blp.response(200, ClockSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Pin the clock of every process (`now`) or shift it (`offset_seconds`)."""
        return shared_clock.store(
            db.session(),
            fixed_at=body.get("now"),
            offset_seconds=body.get("offset_seconds", 0),
        )

    @blp.response(200, ClockSchema)
    def delete(self) -> Any:
        """Put every process back on the wall clock."""
        return shared_clock.clear(db.session())
