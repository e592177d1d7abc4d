"""One handler turns every error into an RFC 7807 `application/problem+json` body."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from marshmallow import Schema, fields
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from engine.errors import DomainError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class ProblemSchema(Schema):
    type = fields.String(metadata={"description": "problem type URI (about:blank)"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    code = fields.String(metadata={"description": "machine-readable reason"})
    field = fields.String(allow_none=True, metadata={"description": "the offending field"})
    errors = fields.Raw(
        metadata={
            "description": "per-field messages of a validation error, or the list of "
            "{element_id, line, message} findings of a refused BPMN file"
        }
    )
    warnings = fields.List(fields.Dict(), metadata={"description": "BPMN linter warnings"})


def problem(
    status: int,
    detail: str,
    *,
    code: str,
    field: str | None = None,
    errors: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _first_field(messages: Any, prefix: str = "") -> str | None:
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in {"json", "query", "form", "files", "headers", "view_args"}:
                return _first_field(value, prefix)
            if key == "_schema":  # marshmallow's key for the body as a whole: no field
                return None
            name = f"{prefix}{key}"
            nested = _first_field(value, f"{name}.") if isinstance(value, dict) else None
            return nested or name
    return None


def _flatten(messages: Any) -> dict[str, Any]:
    if isinstance(messages, dict) and len(messages) == 1:
        ((key, value),) = messages.items()
        if key in {"json", "query", "form", "files", "headers", "view_args"}:
            return _flatten(value)
    return messages if isinstance(messages, dict) else {"_schema": messages}


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages:
        field = _first_field(messages)
        flat = _flatten(messages)
        first = flat.get(field.split(".")[0]) if field else None
        detail = f"{field}: {_first_message(first)}" if field else _first_message(flat)
        return problem(
            422 if status in (400, 422) else status,
            detail,
            code="invalid",
            field=field,
            errors=flat,
        )
    detail = data.get("message") or exc.description or _title(status)
    response = problem(status, str(detail), code=_title(status).lower().replace(" ", "_"))
    for name, value in exc.get_headers():  # keep Allow (405), WWW-Authenticate, Retry-After
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _first_message(value: Any) -> str:
    while isinstance(value, dict | list):
        if isinstance(value, list):
            value = value[0] if value else ""
        else:
            value = next(iter(value.values()), "")
    return str(value)


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        response = problem(exc.status, exc.message, code=exc.code, field=exc.field, extra=exc.extra)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="lapor"'
        return response

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return problem(503, "the database is unavailable, try again shortly", code="unavailable")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return handle_http_exception(exc)
        log.exception("unhandled error")
        return problem(500, "internal error", code="internal")
