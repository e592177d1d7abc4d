"""The one error type raised by services; the API turns it into an RFC 7807 problem body."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses, with an HTTP-like status and, where it applies, the field."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}  # more members of the problem body, e.g. a linter's findings
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedType(DomainError):
    """A body or file of a type not accepted (415)."""

    status = 415
    code = "unsupported_type"
