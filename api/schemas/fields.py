"""Field types shared by the API schemas."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate

from engine.text import storable_problem


class Text(fields.String):
    """A string the database can store: no NUL characters, no lone surrogates."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        problem = storable_problem(result)
        if problem is not None:
            raise ValidationError(f"Text {problem}.")
        return result


class SafeEmail(Text, fields.Email):
    """An email address that is also storable text."""


class QueryInteger(fields.Integer):
    """A whole number in a query string, in ASCII digits only: marshmallow's Integer takes what
    Python's int() takes, so " 4", "4" and a no-break space, or Arabic-Indic digits pass as 4."""

    DIGITS = re.compile(r"[+-]?[0-9]+")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not self.DIGITS.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def pelapor_secret() -> Text:
    """The pelapor's secret of a report, the one credential of every pelapor request."""
    return Text(
        required=True,
        validate=validate.Length(min=8, max=128),
        metadata={"description": "the pelapor's secret of the report"},
    )
