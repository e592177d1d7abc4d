"""Field types shared by the API schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

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
