"""Schemas of the public deadline calculator (`GET /api/v1/sla/due`)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, fields, validate

from api.schemas.fields import QueryInteger, Text

MAX_DURATION = 365
# A query string turns '+' into a space: "2026-03-13T10:00 07:00" meant "...T10:00+07:00".
_PLUS_AS_SPACE = re.compile(r"^(\d{4}-\d{2}-\d{2}T[\d:.]+) (\d{2}(?::?\d{2})?)$")


class OffsetDateTime(fields.AwareDateTime):
    """An ISO 8601 moment that must carry its UTC offset (a naive one is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = _PLUS_AS_SPACE.sub(r"\1+\2", value.strip())
        return super()._deserialize(value, attr, data, **kwargs)


def _count(description: str) -> fields.Integer:
    return QueryInteger(
        validate=validate.Range(min=0, max=MAX_DURATION),
        metadata={"description": description},
    )


class DueQuerySchema(Schema):
    start = OffsetDateTime(
        required=True,
        data_key="from",
        metadata={"description": "the moment counting starts, with its offset (URL-encode '+')"},
    )
    working_days = _count("working days (give this or working_hours)")
    working_hours = _count("office hours (give this or working_days)")
    instansi = Text(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "instansi code, e.g. 34.04"},
    )


class DueInstansiSchema(Schema):
    code = fields.String()
    name = fields.String()
    timezone = fields.String()


class SkippedDaySchema(Schema):
    day = fields.Date()
    reason = fields.String(metadata={"description": "why it is not a working day (Indonesian)"})
    reason_en = fields.String(metadata={"description": "the same in English"})


class DueSchema(Schema):
    start = fields.DateTime(data_key="from", metadata={"description": "as given"})
    instansi = fields.Nested(DueInstansiSchema)
    start_day = fields.Date(metadata={"description": "the local day counting starts from"})
    due_at = fields.DateTime(metadata={"description": "the deadline in the instansi's time zone"})
    due_at_utc = fields.DateTime()
    working_days = fields.Integer()
    working_hours = fields.Integer()
    skipped = fields.List(fields.Nested(SkippedDaySchema))
