"""The parameters of Open311 requests, loaded with marshmallow.

As the spec says, an optional parameter sent empty counts as not sent, parameters a server does
not know are ignored (clients send `device_id`, `account_id`...), and list parameters are
comma separated (or repeated). Dates are W3C date-times with a zone (`2026-02-02T09:00:00Z`,
`...+07:00`) or plain dates (midnight UTC). Attributes (`attribute[judul]=...`) are loaded by
`AttributesSchema`, apart from the other fields.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)
from werkzeug.datastructures import MultiDict

from api.open311.catalog import ANONIM, FLAG_VALUES, RAHASIA, TITLE
from api.schemas.fields import QueryInteger, SafeEmail, Text
from api.schemas.reports import PHONE

OPEN, CLOSED = "open", "closed"
MAX_IDS = 100
MAX_PAGE, MAX_PAGE_SIZE = 500, 1000
MIN_YEAR, MAX_YEAR = 1970, 9000  # ranges of 90 days around them stay valid datetimes
ATTRIBUTE = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")


def flat(values: MultiDict[str, str]) -> dict[str, str]:
    """Each parameter once: repeated ones joined by commas, empty ones dropped."""
    found: dict[str, str] = {}
    for key in values:
        given = [v for v in values.getlist(key) if v.strip()]
        if given:
            found[key] = ",".join(given)
    return found


def split_attributes(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(the other parameters, {attribute code: value})."""
    plain, attributes = {}, {}
    for key, value in values.items():
        match = ATTRIBUTE.match(key)
        if match:
            attributes[match.group(1)] = value
        else:
            plain[key] = value
    return plain, attributes


class CommaList(fields.Field):
    """A comma-separated list; each item stripped, empty items dropped, each checked by
    `item`'s validators."""

    def __init__(self, item: fields.Field, max_items: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item = item
        self.max_items = max_items

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, str):
            raise ValidationError("a comma-separated list")
        items = [part.strip() for part in value.split(",") if part.strip()]
        if len(items) > self.max_items:
            raise ValidationError(f"at most {self.max_items} items")
        return [self.item.deserialize(part) for part in items]


class W3DateTime(fields.Field):
    """A W3C date-time with its zone, or a date (its midnight UTC); answers an aware datetime."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("a W3C date-time, e.g. 2026-02-02T09:00:00+07:00")
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError("a W3C date-time, e.g. 2026-02-02T09:00:00+07:00") from exc
        if moment.tzinfo is None:
            raise ValidationError("must include its time zone (Z or an offset like +07:00)")
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise ValidationError(f"a year from {MIN_YEAR} to {MAX_YEAR}")
        return moment


class _Open311Schema(Schema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def drop_empty(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class JurisdictionQuerySchema(_Open311Schema):
    jurisdiction_id = Text(load_default=None, validate=validate.Length(max=64))


class RequestListQuerySchema(JurisdictionQuerySchema):
    service_request_id = CommaList(
        Text(validate=validate.Length(max=64)), MAX_IDS, load_default=None
    )
    service_code = CommaList(Text(validate=validate.Length(max=100)), MAX_IDS, load_default=None)
    start_date = W3DateTime(load_default=None)
    end_date = W3DateTime(load_default=None)
    status = CommaList(Text(validate=validate.OneOf((OPEN, CLOSED))), 2, load_default=None)
    # not in GeoReport v2, common among servers: walk past the first page of a large range
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = QueryInteger(
        load_default=MAX_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class CreateRequestSchema(JurisdictionQuerySchema):
    service_code = Text(required=True, validate=validate.Length(min=1, max=100))
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-90, 90))
    long = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-180, 180))
    address_string = Text(load_default=None, validate=validate.Length(max=500))
    address_id = Text(load_default=None, validate=validate.Length(max=16))
    email = SafeEmail(load_default=None, validate=validate.Length(max=254))
    first_name = Text(load_default=None, validate=validate.Length(max=100))
    last_name = Text(load_default=None, validate=validate.Length(max=100))
    phone = Text(load_default=None, validate=PHONE)
    description = Text(required=True, validate=validate.Length(min=20, max=4000))
    media_url = fields.Url(
        load_default=None, schemes={"http", "https"}, validate=validate.Length(max=2000)
    )

    @validates_schema
    def located(self, data: dict[str, Any], **_kwargs: Any) -> None:
        lat, long = data.get("lat"), data.get("long")
        if (lat is None) != (long is None):
            missing = "long" if long is None else "lat"
            raise ValidationError("lat and long are sent together", field_name=missing)
        if lat is None and not data.get("address_string") and not data.get("address_id"):
            raise ValidationError(
                "a location is required: lat and long, address_string or address_id",
                field_name="location",
            )


class AttributesSchema(_Open311Schema):
    judul = Text(load_default=None, data_key=TITLE, validate=validate.Length(min=5, max=200))
    anonim = Text(load_default="false", data_key=ANONIM, validate=validate.OneOf(FLAG_VALUES))
    rahasia = Text(load_default="false", data_key=RAHASIA, validate=validate.OneOf(FLAG_VALUES))

    @pre_load
    def lower_flags(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: v.strip().lower() if k in (ANONIM, RAHASIA) and isinstance(v, str) else v
                for k, v in data.items()
            }
        return data
