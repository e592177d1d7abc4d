"""Open311 error answers: `<errors><error><code/><description/></error></errors>` (a JSON list of
`{"code", "description"}`), in the format of the resource asked for.

The HTTP status follows the spec: 404 for what does not exist (a report, a service code, a
jurisdiction, a token), 403 for a missing, unknown, revoked or insufficient `api_key` or a
jurisdiction the key may not file to, 400 for every other request that cannot be fulfilled
(validation, a missing jurisdiction or location, an unknown format). Each error's `code` is
that status; its description names the parameter and the reason. Several errors may be listed
(one per invalid parameter). The domain's errors are mapped here, so a bad input never
becomes a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from api.open311 import formats
from engine.errors import DomainError

log = logging.getLogger(__name__)


class Open311Error(Exception):
    """A refusal with one HTTP status and one or more descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions or ("request refused",)


def answer(status: int, descriptions: tuple[str, ...] | list[str]) -> Response:
    body = [{"code": status, "description": text} for text in descriptions]
    return formats.render("errors", body, formats.requested_format(), status)


def spec_status(status: int) -> int:
    """The domain's status as Open311 wants it: 401 -> 403, 404 and 403 kept, 5xx kept,
    every other refusal 400."""
    if status == 401:
        return 403
    if status in (403, 404) or status >= 500:
        return status
    return 400


def descriptions_of(messages: Any, prefix: str = "") -> list[str]:
    """`field: reason` for each field of marshmallow's error messages."""
    if isinstance(messages, dict):
        found: list[str] = []
        for key, value in messages.items():
            name = prefix if key == "_schema" else f"{prefix}{key}"
            found += descriptions_of(value, f"{name}." if isinstance(value, dict) else name)
        return found
    if isinstance(messages, list):
        text = " ".join(str(m) for m in messages)
        return [f"{prefix}: {text}" if prefix else text]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def register(blueprint: Blueprint) -> None:
    """Every error raised in the blueprint's views answers in Open311's form."""

    @blueprint.errorhandler(Open311Error)
    def _open311(exc: Open311Error) -> Response:
        return answer(exc.status, exc.descriptions)

    @blueprint.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        text = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return answer(spec_status(exc.status), (text,))

    @blueprint.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> Response:
        return answer(400, descriptions_of(exc.messages))

    @blueprint.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = answer(spec_status(status), (exc.description or "request refused",))
        for name, value in exc.get_headers():  # keep Allow (405)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @blueprint.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return answer(503, ("the database is unavailable, try again shortly",))
