"""Schemas of report exports: ask for one (filters and format), and the job with its progress."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from engine.models.exports import FORMATS, STATES
from engine.status import STATUSES


class ExportCreateSchema(Schema):
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "csv (UTF-8 with BOM) or xlsx"},
    )
    instansi = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=32),
        metadata={
            "description": "only the reports this instansi handles now (code, e.g. 34.04); "
            "it must be within what you may export"
        },
    )
    subtree = fields.Boolean(
        load_default=False,
        metadata={"description": "with `instansi`: also every instansi below it (supervisors)"},
    )
    from_ = fields.Date(
        data_key="from",
        load_default=None,
        allow_none=True,
        metadata={"description": "filed on or after this day (your instansi's time zone)"},
    )
    to = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "filed on or before this day (your instansi's time zone)"},
    )
    status = fields.List(
        fields.String(validate=validate.OneOf(STATUSES)),
        load_default=list,
        validate=validate.Length(max=len(STATUSES)),
        metadata={"description": "only reports in these statuses (empty: all)"},
    )


class ExportFiltersSchema(Schema):
    instansi = fields.String(allow_none=True)
    subtree = fields.Boolean()
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    status = fields.List(fields.String())
    time_zone = fields.String(metadata={"description": "of the dates and of the file's times"})


class ExportSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(
        required=True,
        metadata={"description": " | ".join(STATES) + " (expired: the file was removed)"},
    )
    format = fields.String(required=True)
    filters = fields.Nested(ExportFiltersSchema, required=True)
    rows_total = fields.Integer(
        allow_none=True, metadata={"description": "reports to export; null until it starts"}
    )
    rows_done = fields.Integer(required=True)
    percent = fields.Float(required=True)
    error_code = fields.String(
        allow_none=True,
        metadata={"description": "why it failed: requester_inactive, forbidden, worker_lost..."},
    )
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the file will be removed (done only)"}
    )
    url = fields.String(required=True, metadata={"description": "this job (its progress)"})
    download_url = fields.String(
        allow_none=True, metadata={"description": "the file, once the state is done"}
    )
