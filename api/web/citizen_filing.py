"""Filing a report on a page: the form (classification, category, region, target instansi,
anonim/rahasia, contact, attachments, the optional GESI questions) and the page that shows
the tracking number and secret link.

The form is validated by the REST API's marshmallow schema (so limits match the API) and
shows each error next to its field in the visitor's language, keeping everything typed.
Without JavaScript, regencies and the instansi search come from the server ("action" buttons
re-render the form); `citizen.js` only loads regencies on province change.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, current_app, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import validate

from api.db import db
from api.schemas.reports import ReportCreateSchema
from api.web import session
from api.web.citizen_pages import (
    GESI_FIELDS,
    blp,
    category_labels,
    classifications,
    expired,
    gesi_questions,
    load,
    not_found,
    page,
)
from engine.errors import DomainError, InvalidInput, NotFound
from engine.services import attachments, registry, reports

DONT_KNOW = "tidak_tahu"
FILE_FIELD = "lampiran"
TEXT_FIELDS = ("title", "body", "pelapor_name", "pelapor_email", "pelapor_phone", "instansi_q")


def _values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    for name in ("classification", "category", "province", "regency", *GESI_FIELDS):
        values[name] = form.get(name, "")
    values["target_instansi"] = form.get("target_instansi", DONT_KNOW) or DONT_KNOW
    values["anonim"] = form.get("anonim") == "on"
    values["rahasia"] = form.get("rahasia") == "on"
    values["gesi_consent"] = form.get("gesi_consent") == "on"
    return values


def _instansi_choices(values: dict[str, Any]) -> list[registry.InstansiView]:
    """The instansi search results for the form (by name, or else by the chosen region), with
    the instansi already chosen kept among them."""
    found: list[registry.InstansiView] = []
    query = values["instansi_q"][: registry.MAX_QUERY]
    region = values["regency"] or values["province"]
    if query or (values.get("searched") and region):
        found = registry.search_instansi(
            db.session(), query=query, region_code=(None if query else region[:16]) or None
        )
    chosen = values["target_instansi"]
    if chosen != DONT_KNOW and all(i.code != chosen for i in found):
        exact = registry.search_instansi(db.session(), query=chosen[:32], limit=50)
        found = [i for i in exact if i.code == chosen] + found
    return found


def _max_length(name: str) -> int | None:
    for check in ReportCreateSchema().fields[name].validators:
        if isinstance(check, validate.Length):
            return check.max
    return None


def _file_page(
    values: dict[str, Any],
    status_code: int = 200,
    *,
    errors: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    provinces = registry.regions(db.session())
    codes = {p.code for p in provinces}
    regencies = (
        registry.regions(db.session(), parent_code=values["province"])
        if values["province"] in codes
        else []
    )
    return page(
        "citizen/file.html",
        status_code,
        values=values,
        errors=errors or {},
        error=error,
        provinces=provinces,
        regencies=regencies,
        instansi=_instansi_choices(values),
        classifications=classifications(),
        categories=category_labels(),
        gesi=gesi_questions(),
        max_files=attachments.MAX_PER_REPORT,
        max_mb=attachments.MAX_BYTES // (1024 * 1024),
        dont_know=DONT_KNOW,
        limits={name: _max_length(name) for name in ("title", "body", "pelapor_name")},
    )


def _report_data(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """What the API's create schema takes, from the form; region checks the schema cannot do."""
    if not values["province"]:
        errors["province"] = _("Wajib diisi.")
    elif values["regency"] and not values["regency"].startswith(values["province"] + "."):
        errors["regency"] = _("Kabupaten/kota ini tidak berada di provinsi yang dipilih.")
    if any(values[name] for name in GESI_FIELDS) and not values["gesi_consent"]:
        errors["gesi_consent"] = _(
            "Centang persetujuan ini agar jawaban Anda disimpan, atau kosongkan jawabannya."
        )
    target = values["target_instansi"]
    return {
        "classification": values["classification"],
        "category": values["category"],
        "title": values["title"],
        "body": values["body"],
        "region_code": values["regency"] or values["province"],
        "target_instansi": None if target == DONT_KNOW else target,
        "anonim": values["anonim"],
        "rahasia": values["rahasia"],
        "pelapor_name": values["pelapor_name"] or None,
        "pelapor_email": values["pelapor_email"] or None,
        "pelapor_phone": values["pelapor_phone"] or None,
        **{name: values[name] or None for name in GESI_FIELDS},
        "gesi_consent": values["gesi_consent"],
    }


def _file_refused(name: str, error: DomainError) -> str:
    """Why an attachment was refused, naming the file, in the visitor's language."""
    reasons = {
        "too_large": lambda: _(
            "%(name)s terlalu besar: paling besar %(mb)s MB.",
            name=name,
            mb=attachments.MAX_BYTES // (1024 * 1024),
        ),
        "pixels": lambda: _(
            "%(name)s: gambarnya terlalu besar (terlalu banyak piksel).", name=name
        ),
        "invalid": lambda: _("%(name)s rusak atau bukan gambar yang sah.", name=name),
    }
    reason = reasons.get(error.code)
    if reason is not None:
        return reason()
    return _("%(name)s tidak diterima: hanya foto JPG, PNG, WebP atau PDF tanpa skrip.", name=name)


def _prepared_files(errors: dict[str, str]) -> list[attachments.Prepared]:
    """The chosen attachments, checked and cleaned; a refusal is explained next to the field."""
    uploads = [f for f in request.files.getlist(FILE_FIELD) if f.filename]
    if len(uploads) > attachments.MAX_PER_REPORT:
        errors[FILE_FIELD] = _("Paling banyak %(count)s berkas.", count=attachments.MAX_PER_REPORT)
        return []
    prepared = []
    for upload in uploads:
        name = (upload.filename or "")[:100]
        try:
            prepared.append(
                attachments.prepare(upload.stream.read(attachments.MAX_BYTES + 1), filename=name)
            )
        except DomainError as exc:
            errors[FILE_FIELD] = _file_refused(name, exc)
            return []
    return prepared


@blp.get("/lapor")
def file_form() -> Response:
    return _file_page(_values(request.args))


@blp.post("/lapor")
def file_post() -> Response:
    values = _values(request.form)
    action = request.form.get("action", "kirim")
    if not session.login_csrf_ok():
        return _file_page(values, 400, error=expired())
    if action != "kirim":  # the no-JavaScript steps: show regencies, search instansi
        values["searched"] = action == "cari_instansi"
        return _file_page(values)
    errors: dict[str, str] = {}
    data = _report_data(values, errors)
    loaded = load(ReportCreateSchema(), data, errors)
    files = _prepared_files(errors)
    if "region_code" in errors:
        errors.setdefault("province", errors.pop("region_code"))
    if errors:
        return _file_page(values, 422, errors=errors, error=_("Periksa isian yang ditandai."))
    store = attachments.Store(current_app.config["LAPOR"].ATTACHMENT_DIR)
    try:
        filed = reports.create(
            db.session(),
            data=loaded,
            on_filed=partial(attachments.store_all, store=store, files=files),
        )
    except InvalidInput as exc:
        if exc.field == "target_instansi":
            errors["target_instansi"] = _("Instansi ini tidak ditemukan atau tidak aktif.")
        else:
            errors["province"] = _("Wilayah ini tidak dikenal.")
        return _file_page(values, 422, errors=errors, error=_("Periksa isian yang ditandai."))
    where = url_for("citizen.filed", tracking_id=filed.report.tracking_id, secret=filed.secret)
    return redirect(where, code=303)  # type: ignore[return-value]


@blp.get("/lapor/<tracking_id>/terkirim")
def filed(tracking_id: str) -> Response:
    secret = request.args.get("secret", "")[:128]
    try:
        view = reports.get_public(db.session(), tracking_id=tracking_id, secret=secret)
    except NotFound:
        return not_found()
    if not view.owner:
        return not_found()
    link = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret, _external=True)
    return page("citizen/filed.html", report=view.report, secret=secret, link=link)
