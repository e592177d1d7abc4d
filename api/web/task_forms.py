"""Task forms from the BPMN task's JSON Schema, for the officer pages: the fields to render
(select, radios, text, textarea, number, checkbox, with limits as HTML attributes), the posted
values read back as the schema's types, and the schema's complaints as one translated message
per field. Titles and descriptions written in the BPMN files are translated when the catalogue
knows them (the national forms' words are listed here for the extractor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

TEXTAREA_FROM = 200  # strings allowed longer than this get a textarea
RADIOS_UP_TO = 4  # enums with at most this many options are radio buttons
translate_data = _  # BPMN text (titles, descriptions): translated when the catalogue knows it


def N_(text: str) -> str:  # noqa: N802  (the marker babel extracts)
    return text


# The national forms' words (bpmn/national/*.bpmn), so they read in English too.
NATIONAL_FORM_TEXT = (
    N_("Verifikasi laporan"),
    N_("Keputusan Admin Nasional atas laporan yang masuk."),
    N_("Keputusan"),
    N_(
        "forward: teruskan ke instansi; tunda: minta informasi tambahan dari pelapor; "
        "bukan_wewenang: di luar wewenang LAPOR!; arsipkan: arsipkan laporan."
    ),
    N_("Instansi tujuan"),
    N_("Kode instansi tujuan (diisi bila keputusan forward)."),
    N_("Alasan"),
    N_("Alasan atau catatan keputusan."),
    N_("Telaah dan disposisi"),
    N_("Hasil telaah Admin Instansi atas laporan yang diteruskan ke instansi."),
    N_(
        "disposisi: teruskan untuk ditindaklanjuti; "
        "bukan_wewenang: laporan bukan wewenang instansi."
    ),
    N_("Unit tujuan"),
    N_("Kode unit kerja tujuan disposisi."),
    N_("Tindak lanjut"),
    N_("Tanggapan/tindak lanjut Pejabat Penghubung yang akan disampaikan kepada pelapor."),
    N_("Uraian tindak lanjut atas laporan."),
)


def option_label(value: str) -> str:
    labels = {
        "forward": _("Teruskan ke instansi"),
        "tunda": _("Tunda: minta informasi kepada pelapor"),
        "bukan_wewenang": _("Bukan wewenang"),
        "arsipkan": _("Arsipkan"),
        "disposisi": _("Disposisi ke unit kerja"),
    }
    return labels.get(value, value)


# ---- forms from JSON Schema ------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # select | radios | text | textarea | integer | number | checkbox
    label: str
    help: str | None
    required: bool
    value: Any = None
    error: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)


def _kind(spec: Mapping[str, Any], options: list[tuple[str, str]]) -> str:
    kind = spec.get("type")
    if options:
        return "radios" if len(options) <= RADIOS_UP_TO else "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return str(kind)
    limit = spec.get("maxLength")
    return "text" if isinstance(limit, int) and limit <= TEXTAREA_FROM else "textarea"


def form_fields(
    schema: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    units: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> list[Field]:
    """The fields of a task's form, in the schema's order, with values and errors."""
    if not schema:
        return []
    required = set(schema.get("required") or ())
    fields: list[Field] = []
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        options = [(str(v), option_label(str(v))) for v in spec.get("enum") or ()]
        if name == "target_unit" and units and not options:
            options = [(code, f"{title} ({code})") for code, title in units]
        kind = "select" if name == "target_unit" and options else _kind(spec, options)
        attrs = {
            html: spec[key]
            for key, html in (
                ("maxLength", "maxlength"),
                ("minLength", "minlength"),
                ("minimum", "min"),
                ("maximum", "max"),
            )
            if isinstance(spec.get(key), int | float)
        }
        description = spec.get("description")
        fields.append(
            Field(
                name=name,
                kind=kind,
                label=translate_data(str(spec.get("title") or name)),
                help=translate_data(description) if isinstance(description, str) else None,
                required=name in required,
                value=values.get(name),
                error=errors.get(name),
                options=options,
                attrs=attrs,
            )
        )
    return fields


def read_form(
    schema: Mapping[str, Any] | None, form: MultiDict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Posted fields as the schema's types: (data, values to show again, parse errors)."""
    data: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in ((schema or {}).get("properties") or {}).items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if kind == "boolean":
            data[name] = shown[name] = name in form
            continue
        raw = form.get(name, "").strip()
        shown[name] = raw
        if not raw:
            continue
        if kind in ("integer", "number"):
            try:
                data[name] = int(raw) if kind == "integer" else float(raw.replace(",", "."))
            except ValueError:
                errors[name] = (
                    _("Masukkan bilangan bulat.") if kind == "integer" else _("Masukkan angka.")
                )
        else:
            data[name] = raw
    return data, shown, errors


def _message(error: jsonschema.ValidationError) -> str:
    value = error.validator_value
    if error.validator == "maxLength":
        return _("Paling banyak %(n)s karakter.", n=value)
    if error.validator == "minLength":
        return _("Paling sedikit %(n)s karakter.", n=value)
    if error.validator == "enum":
        return _("Pilih salah satu pilihan yang tersedia.")
    if error.validator in ("minimum", "exclusiveMinimum"):
        return _("Nilai terlalu kecil (batas %(n)s).", n=value)
    if error.validator in ("maximum", "exclusiveMaximum"):
        return _("Nilai terlalu besar (batas %(n)s).", n=value)
    return _("Nilai ini tidak sesuai.")


def check(schema: Mapping[str, Any] | None, data: dict[str, Any]) -> dict[str, str]:
    """The schema's complaints about `data`, one translated message per field."""
    errors: dict[str, str] = {}
    if not schema:
        return errors
    for error in jsonschema.Draft202012Validator(schema).iter_errors(data):
        if error.validator == "required":
            for name in error.validator_value:
                if name not in (error.instance or {}):
                    errors.setdefault(str(name), _("Wajib diisi."))
        elif error.path:
            errors.setdefault(str(error.path[0]), _message(error))
        else:
            errors.setdefault("", _message(error))
    return errors
