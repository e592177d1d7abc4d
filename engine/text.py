"""Which text can be stored: no NUL bytes (PostgreSQL refuses them) and valid Unicode only."""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidInput


def storable_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def check_storable(data: Any, field: str | None = None) -> None:
    """Raise InvalidInput naming the field when any string in `data` cannot be stored."""
    if isinstance(data, str):
        problem = storable_problem(data)
        if problem is not None:
            raise InvalidInput(f"{field or 'text'} {problem}", field=field)
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{field}.{key}" if field else str(key)
            check_storable(str(key), name)
            check_storable(value, name)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            check_storable(value, f"{field}.{index}" if field else str(index))
