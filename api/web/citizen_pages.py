"""What the citizen (pelapor) pages share: their blueprint and header links, rendering with the
form token, the expired-form and not-found answers, validation in the visitor's language, and
the labels of classifications, categories and the optional GESI questions.

Forms post back to themselves with a double-submit CSRF cookie (as the login form does).
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template
from flask_babel import gettext as _
from marshmallow import Schema

from api.web import forms, session
from api.web.pages import add_nav_link, page_blueprint
from engine.models.reports import DISABILITIES, GENDERS, GESI_CHOICES, VULNERABLE_GROUPS

blp = page_blueprint("citizen", __name__)
add_nav_link("citizen.file_form", lambda: _("Lapor"), roles=None, order=10)
add_nav_link("citizen.track", lambda: _("Lacak"), roles=None, order=10)

CATEGORIES = (
    "infrastruktur",
    "kesehatan",
    "pendidikan",
    "kependudukan",
    "perizinan",
    "lingkungan",
    "transportasi",
    "bantuan sosial",
    "anggaran",
    "pelayanan publik",
    "lainnya",
)
GESI_FIELDS = tuple(GESI_CHOICES)


def page(template: str, status_code: int = 200, **context: Any) -> Response:
    """A citizen page, with the form token (the double-submit cookie is set when new)."""
    token, fresh = session.login_csrf()
    response = Response(render_template(template, form_csrf=token, **context), status=status_code)
    if fresh:
        session.keep_login_csrf(response, token)
    return response


def expired() -> str:
    return _("Formulir sudah kedaluwarsa. Silakan coba lagi.")


def not_found() -> Response:
    """The one answer to an unknown report, a wrong secret, or a report the visitor may not
    see: the same 404 page."""
    return page("citizen/not_found.html", 404)


def load(schema: Schema, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """`data` validated by the REST API's `schema`; each field's error, in the visitor's
    language, added to `errors` unless the page already explained that field."""
    loaded, found = forms.load(schema, data)
    for name, message in found.items():
        errors.setdefault(name, message)
    return loaded or {}


def classifications() -> list[tuple[str, str, str]]:
    """(value, label, one-line explanation) of each classification."""
    return [
        (
            "pengaduan",
            _("Pengaduan"),
            _("Keluhan atas pelayanan publik yang buruk, lambat, atau tidak sesuai aturan."),
        ),
        ("aspirasi", _("Aspirasi"), _("Saran atau usulan untuk memperbaiki pelayanan publik.")),
        (
            "permintaan_informasi",
            _("Permintaan informasi"),
            _("Pertanyaan atau permintaan data kepada instansi pemerintah."),
        ),
    ]


def category_labels() -> dict[str, str]:
    labels = [
        _("Infrastruktur"),
        _("Kesehatan"),
        _("Pendidikan"),
        _("Kependudukan"),
        _("Perizinan"),
        _("Lingkungan"),
        _("Transportasi"),
        _("Bantuan sosial"),
        _("Anggaran"),
        _("Pelayanan publik"),
        _("Lainnya"),
    ]
    return dict(zip(CATEGORIES, labels, strict=True))


def gesi_questions() -> list[tuple[str, str, dict[str, str]]]:
    """(field, question, {value: label}) of the optional GESI questions."""
    genders = [_("Perempuan"), _("Laki-laki")]
    disabilities = [
        _("Tidak ada"),
        _("Disabilitas fisik"),
        _("Disabilitas intelektual"),
        _("Disabilitas mental"),
        _("Disabilitas sensorik: netra (penglihatan)"),
        _("Disabilitas sensorik: rungu atau wicara"),
        _("Disabilitas ganda (lebih dari satu)"),
    ]
    groups = [
        _("Tidak ada"),
        _("Lanjut usia"),
        _("Anak (di bawah 18 tahun)"),
        _("Ibu hamil atau menyusui"),
        _("Masyarakat hukum adat"),
        _("Keluarga miskin atau rentan miskin"),
        _("Pekerja migran"),
    ]
    return [
        ("gender", _("Jenis kelamin"), dict(zip(GENDERS, genders, strict=True))),
        ("disability", _("Disabilitas"), dict(zip(DISABILITIES, disabilities, strict=True))),
        (
            "vulnerable_group",
            _("Kelompok rentan"),
            dict(zip(VULNERABLE_GROUPS, groups, strict=True)),
        ),
    ]
