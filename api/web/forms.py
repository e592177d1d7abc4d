"""Forms on pages: the staff CSRF check, and validation by the REST API's own marshmallow
schemas with each field's error in the visitor's language.

Pages validate with the same schemas as the API so limits never differ. Marshmallow writes its
messages in English; `explain` reads each one by its kind (required, length with its limits,
choice, number range, email, date, number...) and says it in the page's language, with a
translated fallback for a message it does not know: a page never shows marshmallow's English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Response, render_template, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from api.schemas.registry_admin import CODE
from api.schemas.reports import PHONE
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


# --- marshmallow's messages, by kind --------------------------------------------------------


def _length(low: str | None, high: str | None, value: Any) -> str:
    """A length rule (`validate.Length`) that failed: of text in characters, of a list in
    choices; which bound was crossed when the value says so."""
    size = len(value) if isinstance(value, str | list | tuple) else None
    short = low is not None and size is not None and size < int(low)
    long = high is not None and size is not None and size > int(high)
    if isinstance(value, list | tuple):
        if short or (low is not None and high is None):
            return _("Pilih paling sedikit %(min)s.", min=low)
        return _("Pilih paling banyak %(max)s.", max=high)
    if short or (low is not None and high is None):
        return _("Terlalu pendek: paling sedikit %(min)s karakter.", min=low)
    if long or (high is not None and low is None):
        return _("Terlalu panjang: paling banyak %(max)s karakter.", max=high)
    return _("Panjangnya harus %(min)s sampai %(max)s karakter.", min=low, max=high)


_BOUND = r"(greater than or equal to|greater than|less than or equal to|less than) (.+?)"


def _range(match: re.Match[str], _value: Any) -> str:
    """A `validate.Range` that failed: its bounds, inclusive or not."""
    first_op, first, second_op, second = match.groups()
    bounds: dict[str, tuple[bool, str]] = {}
    for op, limit in ((first_op, first), (second_op, second)):
        if op:
            bounds["min" if op.startswith("greater") else "max"] = (op.endswith("equal to"), limit)
    low, high = bounds.get("min"), bounds.get("max")
    if low and high:
        if low[0] and high[0]:
            return _("Isi nilai %(min)s sampai %(max)s.", min=low[1], max=high[1])
        return _(
            "Isi nilai di antara %(min)s dan %(max)s (batasnya tidak termasuk).",
            min=low[1],
            max=high[1],
        )
    if low:
        if low[0]:
            return _("Isi nilai paling kecil %(min)s.", min=low[1])
        return _("Isi nilai lebih dari %(min)s.", min=low[1])
    inclusive, limit = high or (False, "")
    if inclusive:
        return _("Isi nilai paling besar %(max)s.", max=limit)
    return _("Isi nilai kurang dari %(max)s.", max=limit)


def _fixed(message: Callable[[], str]) -> Callable[[re.Match[str], Any], str]:
    return lambda _match, _value: message()


_KINDS: list[tuple[re.Pattern[str], Callable[[re.Match[str], Any], str]]] = [
    (re.compile(p), explain_kind)
    for p, explain_kind in (
        (r"^Missing data for required field\.$", _fixed(lambda: _("Wajib diisi."))),
        (r"^Field may not be null\.$", _fixed(lambda: _("Wajib diisi."))),
        (r"^Shorter than minimum length (\d+)\.$", lambda m, v: _length(m[1], None, v)),
        (r"^Longer than maximum length (\d+)\.$", lambda m, v: _length(None, m[1], v)),
        (r"^Length must be between (\d+) and (\d+)\.$", lambda m, v: _length(m[1], m[2], v)),
        (
            r"^Length must be (\d+)\.$",
            lambda m, _v: _("Panjangnya harus tepat %(count)s karakter.", count=m[1]),
        ),
        (rf"^Must be {_BOUND}(?: and {_BOUND})?\.$", _range),
        (r"^Must be one of: ", _fixed(lambda: _("Pilih salah satu pilihan."))),
        (
            r"^One or more of the choices you made was not in: ",
            _fixed(lambda: _("Pilih hanya dari pilihan yang tersedia.")),
        ),
        (r"^Not a valid email address\.$", _fixed(lambda: _("Alamat email tidak valid."))),
        (
            r"^Not a valid (?:(?:aware|naive) )?date\.$",
            _fixed(lambda: _("Tanggal tidak valid (format TTTT-BB-HH).")),
        ),
        (
            r"^Not a valid (?:(?:aware|naive) )?(?:datetime|time)\.$|^Not a time of day",
            _fixed(lambda: _("Waktu tidak valid.")),
        ),
        (r"^Not a valid integer\.$", _fixed(lambda: _("Harus berupa bilangan bulat."))),
        (
            r"^Not a valid number\.$|^Special numeric values",
            _fixed(lambda: _("Harus berupa angka.")),
        ),
        (r"^Number too large\.$", _fixed(lambda: _("Angkanya terlalu besar."))),
        (r"^Not a valid boolean\.$", _fixed(lambda: _("Pilih ya atau tidak."))),
        (r"^Not a valid (?:utf-8 )?string\.$", _fixed(lambda: _("Harus berupa teks."))),
        (
            r"^Text (?:must not contain|is not valid)",
            _fixed(lambda: _("Teks ini memuat karakter yang tidak dapat disimpan.")),
        ),
        (r"^Not a valid URL\.$", _fixed(lambda: _("Alamat web (URL) tidak valid."))),
        (
            rf"^{re.escape(PHONE.error)}$",
            _fixed(lambda: _("Nomor telepon tidak valid, contoh: +62 812 3456 7890.")),
        ),
        (
            rf"{re.escape(CODE.error)}$",
            _fixed(lambda: _("Pakai huruf, angka, titik, garis bawah, atau minus.")),
        ),
        (r"^give \w+ or \w+, not both$", _fixed(lambda: _("Isi salah satu saja, bukan keduanya."))),
        (r"^give exactly one of ", _fixed(lambda: _("Isi tepat salah satu dari keduanya."))),
        (r"^Unknown field\.$", _fixed(lambda: _("Isian ini tidak dikenal."))),
        (
            r"^Invalid (?:input )?type\.$|^Not a valid (?:list|tuple|mapping type)\.$",
            _fixed(lambda: _("Bentuk isian ini tidak sesuai.")),
        ),
    )
]


def explain(message: str, value: Any = None) -> str:
    """One marshmallow message in the visitor's language, by its kind and with its limits;
    `value` (what was typed, when known) tells a too-short text from a too-long one. Empty
    input that fails is "required"; a message of no known kind gets a translated fallback."""
    if value == "":
        return _("Wajib diisi.")
    for pattern, explain_kind in _KINDS:
        found = pattern.search(message)
        if found:
            return explain_kind(found, value)
    return _("Isian ini tidak valid.")


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first message of each field, translated; errors of the whole form under `_form`."""
    messages = error.messages if isinstance(error.messages, dict) else {"_form": error.messages}
    given = error.data if isinstance(error.data, dict) else {}
    found: dict[str, str] = {}
    for name, value in messages.items():
        nested = isinstance(value, dict)  # an inner field's error: the typed value is not its
        while isinstance(value, list | dict):
            value = next(iter(value.values() if isinstance(value, dict) else value), "")
        key = "_form" if name == "_schema" else str(name)
        found[key] = explain(str(value), None if nested else given.get(name))
    return found


def load(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """`schema.load(data)`: (the loaded data, {}) or (None, the translated errors by field)."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        return None, field_errors(exc)
    return loaded, {}


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
    data, errors = load(schema, given)
    return data, errors, raw
