"""Process-wide logging: JSON or text lines on stderr, each naming its request or scheduler job,
with personal data taken out.

`configure` is called once by each entry point (`api.wsgi` under gunicorn, the `lapor` command
for `serve`, `scheduler` and the chores); it installs one handler on the root logger and gives
gunicorn's own loggers the same format (`GunicornLogger` does it in gunicorn's master too).
`init_app` (the app factory) wraps the WSGI app so that every request has an id: a valid
incoming `X-Request-Id`, or a new one, echoed in the response and set on every line logged
while the request runs, the server's own request line included (werkzeug and gunicorn write
it before the response is closed). Lines a scheduler job writes
carry its run's id (`sla.scheduler.current_job`).

The redacting filter rewrites each record before it is written: email addresses, phone numbers
and the values of known personal fields (`pelapor_email=...`, `"secret": "..."`, `?secret=`)
become `[redacted]`, in the message, its arguments, extra attributes and exception text.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from gunicorn.glogging import Logger as GunicornBaseLogger
from werkzeug.wsgi import ClosingIterator

from sla.scheduler import current_job

FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REQUEST_ID_HEADER = "X-Request-Id"
ENVIRON_KEY = "lapor.request_id"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# libraries that are chatty at INFO (SQLAlchemy would log every statement)
QUIET = ("sqlalchemy", "SpiffWorkflow", "spiff", "apscheduler", "alembic")
GUNICORN = ("gunicorn.error", "gunicorn.access")
REDACTED = "[redacted]"
PERSONAL_FIELDS = frozenset(
    {
        "pelapor_name",
        "pelapor_email",
        "pelapor_phone",
        "full_name",
        "email",
        "phone",
        "password",
        "secret",
        "token",
    }
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# a run of digits with spaces, dashes or brackets, not part of a word, date, time or address
PHONE_CANDIDATE = re.compile(r"(?<![\w.:/@-])[+(]?\d[\d\s()-]{6,}\d(?![\w.:/@]|-\d)")
_FIELD_NAMES = "|".join(sorted(PERSONAL_FIELDS))
PERSONAL_VALUE = re.compile(
    rf"""(?P<key>["']?\b(?:{_FIELD_NAMES})\b["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,;&)}\]]+)""",
    re.IGNORECASE,
)

_request_id: ContextVar[str | None] = ContextVar("lapor_request_id", default=None)
_HANDLER_MARK = "_lapor_handler"


def current_request_id() -> str | None:
    """The id of the request this thread is serving, if any."""
    return _request_id.get()


def request_id_from(header: str | None) -> str:
    """The incoming id when it is a sane token (1-128 letters, digits, `._:-`), else a new one."""
    if header and VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


# -- redaction ---------------------------------------------------------------------------------


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    looks_like_phone = text[0] in "+(0" or digits.startswith("62")
    return REDACTED if looks_like_phone and 9 <= len(digits) <= 15 else text


def redact(text: str) -> str:
    """`text` without email addresses, phone numbers and values of personal fields."""
    text = PERSONAL_VALUE.sub(lambda m: m.group("key") + REDACTED, text)
    text = EMAIL.sub(REDACTED, text)
    return PHONE_CANDIDATE.sub(_phone, text)


class _MaskedArgs(dict):  # type: ignore[type-arg]
    """Mapping arguments of a record with personal fields masked (gunicorn's access atoms
    answer '-' for unknown keys, so lookups go to the original)."""

    def __init__(self, original: Mapping[str, Any]) -> None:
        super().__init__(original)
        self._original = original

    def __getitem__(self, key: str) -> Any:
        if isinstance(key, str) and key.lower() in PERSONAL_FIELDS:
            return REDACTED
        return self._original[key]


class RedactingFilter(logging.Filter):
    """Rewrites the record: its message formatted with masked arguments, then redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in PERSONAL_FIELDS & record.__dict__.keys():
            setattr(record, name, REDACTED)
        args = record.args
        if isinstance(args, Mapping):
            record.args = _MaskedArgs(args)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what can be kept
            message = f"{record.msg} {args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Names the request and the scheduler job the line was written in."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        if getattr(record, "job_id", None) is None:
            record.job_id = current_job.get()
        return True


# -- formats -----------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id or job_id, and
    the exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "job_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request or job id] message` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{k}={v}" for k in ("request_id", "job_id") if (v := getattr(record, k, None))]
        record.context = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when the line is written (click's test runner and
    gunicorn swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def resolve_format(setting: str, *, development: bool) -> str:
    """`json` or `text`: the setting, or when it is empty, text in development (`lapor serve`)
    and JSON everywhere else."""
    if setting:
        return setting
    return "text" if development else "json"


def configure(fmt: str = "json", level: str = "INFO", *, stream: IO[str] | None = None) -> None:
    """Install this process's log handler on the root logger (again: replaces the previous one)
    and give gunicorn's loggers, when present, the same format and filters."""
    if fmt not in FORMATS:
        raise ValueError(f"log format is one of {', '.join(FORMATS)}")
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    _dress(handler, formatter)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in GUNICORN:  # they do not propagate: their own handlers get our format
        for own in logging.getLogger(name).handlers:
            _dress(own, formatter)


def _dress(handler: logging.Handler, formatter: logging.Formatter) -> None:
    handler.setFormatter(formatter)
    for kind in (ContextFilter, RedactingFilter):
        if not any(isinstance(f, kind) for f in handler.filters):
            handler.addFilter(kind())


# -- gunicorn ---------------------------------------------------------------------------------


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger writing our lines from the start, the master's own lines included
    (`gunicorn --logger-class api.logs.GunicornLogger`; workers load `api.wsgi` only after
    the master has logged its first lines). Format and level as `LAPOR_LOG_FORMAT` (JSON
    unless `text`) and `LAPOR_LOG_LEVEL` say."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        configure(
            os.environ.get("LAPOR_LOG_FORMAT") or "json",
            os.environ.get("LAPOR_LOG_LEVEL") or "INFO",
        )


# -- request ids -------------------------------------------------------------------------------

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RequestIdMiddleware:
    """Gives each request its id for as long as the server works on it, and echoes it."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = request_id
        _request_id.set(request_id)

        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status, headers, *args)

        try:
            answer = self.app(environ, start)
        except BaseException:
            _request_id.set(None)
            raise
        # cleared when the server closes the answer, after its own request line
        return ClosingIterator(answer, lambda: _request_id.set(None))


def init_app(app: Any) -> None:
    """Wrap the app (the app factory calls it last, so the id covers every middleware)."""
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)
