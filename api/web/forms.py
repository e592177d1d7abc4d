"""Staff forms on pages: the CSRF check, and validation by the REST API's own marshmallow schemas
with each field's error translated for the page.

Pages validate with the same schemas as the API so limits never differ. Marshmallow writes its
messages in English; `field_errors` maps the usual ones to translated sentences, and shows any
other one as it is (it names the rule that failed).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, render_template, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from api.web import session

_NUMBER = re.compile(r"^-?\d{1,9}$")


def csrf_valid(session_token: str) -> bool:
    """Whether this POST carries the session's CSRF token in its form."""
    return session.csrf_ok(session_token, request.form.get(session.CSRF_FIELD))


def token_refused() -> Response:
    """The page for a form whose CSRF token does not match (400)."""
    text = _("Token keamanan formulir tidak cocok. Muat ulang halaman lalu coba lagi.")
    page = render_template("message.html", title=_("Permintaan ditolak"), text=text)
    return Response(page, status=400)


def csrf_refused(session_token: str) -> Response | None:
    """`token_refused()` unless this POST carries the session's CSRF token."""
    return None if csrf_valid(session_token) else token_refused()


def _translated(message: str) -> str:
    known = {
        "Missing data for required field.": _("Wajib diisi."),
        "Field may not be null.": _("Wajib diisi."),
        "Not a valid date.": _("Tanggal tidak valid (format TTTT-BB-HH)."),
        "Not a valid integer.": _("Harus berupa bilangan bulat."),
        "Not a valid string.": _("Harus berupa teks."),
    }
    if message in known:
        return known[message]
    if message.startswith("Must be one of:"):
        return _("Pilih salah satu pilihan yang tersedia.")
    if message.startswith(("Length must be", "Shorter than", "Longer than")):
        return _("Panjang isian di luar batas yang diizinkan.")
    if message.startswith(("Must be greater", "Must be less", "Must be between")):
        return _("Angka di luar batas yang diizinkan.")
    return message


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first message of each field, translated; errors of the whole form under `_form`."""
    messages = error.messages if isinstance(error.messages, dict) else {"_form": error.messages}
    found: dict[str, str] = {}
    for name, value in messages.items():
        while isinstance(value, list | dict):
            value = next(iter(value.values() if isinstance(value, dict) else value), "")
        found["_form" if name == "_schema" else str(name)] = _translated(str(value))
    return found


def load_form(
    schema: Schema, fields: list[str], numbers: frozenset[str] = frozenset()
) -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    """Validate the posted `fields` with `schema`: (data or None, errors by field, the raw values
    to show again). Empty fields count as not given; `numbers` become ints when they are."""
    raw = {name: request.form.get(name, "").strip() for name in fields}
    given: dict[str, Any] = {}
    for name, value in raw.items():
        if value == "":
            continue
        given[name] = int(value) if name in numbers and _NUMBER.match(value) else value
    try:
        return schema.load(given), {}, raw
    except ValidationError as exc:
        return None, field_errors(exc), raw
