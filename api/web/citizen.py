"""Citizen (pelapor) pages, no account needed: file a report, see its tracking number and secret
link, track it, reply on tunda, rate the follow-up, and ask for the links again by email.

Forms post back to themselves with a double-submit CSRF cookie (as the login form does), are
validated by the REST API's marshmallow schemas (so limits match the API) and show each error
next to its field in the visitor's language, keeping everything typed. Without JavaScript,
regencies and the instansi search come from the server ("action" buttons re-render the form);
`citizen.js` only loads regencies on province change and copies the status link.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Response, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from api.db import db
from api.schemas.pelapor import ResendLinkSchema
from api.schemas.reports import ReplySchema, ReportCreateSchema
from api.web import session
from api.web.pages import add_nav_link, page_blueprint
from engine import status
from engine.errors import Conflict, DomainError, InvalidInput, NotFound
from engine.models import Region
from engine.models.reports import DISABILITIES, GENDERS, VULNERABLE_GROUPS
from engine.services import attachments, registry, reports
from sla import pelapor_notices

blp = page_blueprint("citizen", __name__)
add_nav_link("citizen.file_form", lambda: _("Lapor"), roles=None, order=10)
add_nav_link("citizen.track", lambda: _("Lacak"), roles=None, order=10)

DONT_KNOW = "tidak_tahu"
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
GESI_FIELDS = ("gender", "disability", "vulnerable_group")
FILE_FIELD = "lampiran"
TEXT_FIELDS = ("title", "body", "pelapor_name", "pelapor_email", "pelapor_phone", "instansi_q")
ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


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


# --- CSRF (double-submit cookie, shared with the login form) and rendering -----------------


def _page(template: str, status_code: int = 200, **context: Any) -> Response:
    token, fresh = session.login_csrf()
    response = Response(render_template(template, form_csrf=token, **context), status=status_code)
    if fresh:
        session.keep_login_csrf(response, token)
    return response


def _expired() -> str:
    return _("Formulir sudah kedaluwarsa. Silakan coba lagi.")


def _not_found() -> Response:
    return _page("citizen/not_found.html", 404)


# --- validation messages in the visitor's language -------------------------------------------


def _explain(field: fields.Field | None, value: Any) -> str:
    """A field's error in plain words, from its validators (the limits the API enforces)."""
    if value is None or value == "":
        return _("Wajib diisi.")
    if isinstance(field, fields.Email):
        return _("Alamat email tidak valid.")
    for check in getattr(field, "validators", []):
        if isinstance(check, validate.Length) and isinstance(value, str):
            if check.min is not None and len(value) < check.min:
                return _("Terlalu pendek: paling sedikit %(min)s karakter.", min=check.min)
            if check.max is not None and len(value) > check.max:
                return _("Terlalu panjang: paling banyak %(max)s karakter.", max=check.max)
        if isinstance(check, validate.Regexp):
            return _("Nomor telepon tidak valid, contoh: +62 812 3456 7890.")
        if isinstance(check, validate.OneOf):
            return _("Pilih salah satu pilihan.")
        if isinstance(check, validate.Range):
            return _("Pilih nilai %(min)s sampai %(max)s.", min=check.min, max=check.max)
    return _("Isian ini tidak valid.")


def _load(schema: Schema, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
        return loaded
    except ValidationError as exc:
        for name in exc.messages_dict:
            errors.setdefault(name, _explain(schema.fields.get(name), data.get(name)))
        return {}


# --- the filing form -------------------------------------------------------------------------


def _values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    for name in ("classification", "category", "province", "regency", *GESI_FIELDS):
        values[name] = form.get(name, "")
    values["target_instansi"] = form.get("target_instansi", DONT_KNOW) or DONT_KNOW
    values["anonim"] = form.get("anonim") == "on"
    values["rahasia"] = form.get("rahasia") == "on"
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
    return _page(
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


def _max_length(name: str) -> int | None:
    for check in ReportCreateSchema().fields[name].validators:
        if isinstance(check, validate.Length):
            return check.max
    return None


def _report_data(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """What the API's create schema takes, from the form; region checks the schema cannot do."""
    if not values["province"]:
        errors["province"] = _("Wajib diisi.")
    elif values["regency"] and not values["regency"].startswith(values["province"] + "."):
        errors["regency"] = _("Kabupaten/kota ini tidak berada di provinsi yang dipilih.")
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
    }


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
            reasons = {
                "too_large": _(
                    "%(name)s terlalu besar: paling besar %(mb)s MB.",
                    name=name,
                    mb=attachments.MAX_BYTES // (1024 * 1024),
                ),
                "pixels": _(
                    "%(name)s: gambarnya terlalu besar (terlalu banyak piksel).", name=name
                ),
                "invalid": _("%(name)s rusak atau bukan gambar yang sah.", name=name),
            }
            errors[FILE_FIELD] = reasons.get(
                exc.code,
                _(
                    "%(name)s tidak diterima: hanya foto JPG, PNG, WebP atau PDF tanpa skrip.",
                    name=name,
                ),
            )
            return []
    return prepared


@blp.get("/")
def home() -> Response:
    return _page("citizen/home.html")


@blp.get("/lapor")
def file_form() -> Response:
    return _file_page(_values(request.args))


@blp.post("/lapor")
def file_post() -> Response:
    values = _values(request.form)
    action = request.form.get("action", "kirim")
    if not session.login_csrf_ok():
        return _file_page(values, 400, error=_expired())
    if action != "kirim":  # the no-JavaScript steps: show regencies, search instansi
        values["searched"] = action == "cari_instansi"
        return _file_page(values)
    errors: dict[str, str] = {}
    data = _report_data(values, errors)
    loaded = _load(ReportCreateSchema(), data, errors)
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
        return _not_found()
    if not view.owner:
        return _not_found()
    link = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret, _external=True)
    return _page("citizen/filed.html", report=view.report, secret=secret, link=link)


# --- tracking and the status page ----------------------------------------------------------


def _tracking_id(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())[:32]


@blp.get("/lacak")
def track() -> Response:
    raw = request.args.get("tracking_id")
    secret = request.args.get("secret", "").strip()[:128]
    values = {"tracking_id": raw or "", "secret": secret}
    if raw is None:
        return _page("citizen/track.html", values=values, errors={})
    tracking_id = _tracking_id(raw)
    if not tracking_id:
        return _page(
            "citizen/track.html", 422, values=values, errors={"tracking_id": _("Wajib diisi.")}
        )
    if not reports.is_tracking_id(tracking_id):
        message = _("Nomor pelacakan terdiri dari %(count)s huruf dan angka.", count=10)
        return _page("citizen/track.html", 422, values=values, errors={"tracking_id": message})
    try:
        reports.get_public(db.session(), tracking_id=tracking_id, secret=secret or None)
    except NotFound:
        message = _(
            "Laporan tidak ditemukan. Laporan rahasia hanya terbuka dengan kode rahasianya."
        )
        return _page("citizen/track.html", 404, values=values, errors={"tracking_id": message})
    where = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret or None)
    return redirect(where, code=303)  # type: ignore[return-value]


def _when(moment: datetime | None, zone: str) -> str | None:
    if moment is None:
        return None
    locale = str(get_locale() or "id")
    pattern = "d MMMM y, HH:mm" if locale == "en" else "d MMMM y, HH.mm"
    text = format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=locale)
    return f"{text} {ZONES.get(zone, zone)}"


def _region(code: str) -> tuple[str, str]:
    """The report's region name and time zone (a read for display only)."""
    with db.session().begin():
        region = db.session().scalar(select(Region).where(Region.code == code))
        return (region.name, region.timezone) if region else (code, "Asia/Jakarta")


STEP_OF_STATUS = {
    status.PENDING_VERIFICATION: 1,
    status.ON_HOLD: 1,
    status.FORWARDED: 2,
    status.IN_PROGRESS: 3,
    status.REOPENED: 3,
    status.FOLLOWED_UP: 4,
}
STEP_KINDS = (
    {"filed"},
    {"forwarded"},
    {"disposed"},
    {"follow_up"},
    {"closed", "auto_closed", "rejected", "archived"},
)


def _steps(timeline: list[Any], report_status: str, due: str | None, zone: str) -> list[Any]:
    names = [
        _("Dilaporkan"),
        _("Diverifikasi"),
        _("Diteruskan ke unit kerja"),
        _("Ditindaklanjuti"),
        _("Selesai"),
    ]
    current = STEP_OF_STATUS.get(report_status, len(names))
    steps = []
    for index, (name, kinds) in enumerate(zip(names, STEP_KINDS, strict=True)):
        entries = [t for t in timeline if t.kind in kinds]
        state = "done" if index < current else "current" if index == current else "todo"
        at = _when(entries[-1].at, zone) if entries and state == "done" else None
        steps.append(
            {"name": name, "state": state, "at": at, "due": due if state == "current" else None}
        )
    return steps


def _event(entry: Any) -> str:
    data = entry.data or {}
    labels = {
        "filed": _("Laporan diterima"),
        "on_hold": _("Ditunda: petugas meminta informasi tambahan"),
        "info_supplied": _("Anda mengirim informasi tambahan"),
        "returned": _("Dikembalikan untuk diteruskan ke instansi lain"),
        "follow_up": _("Tindak lanjut dari instansi"),
        "comment": _("Komentar Anda"),
        "reopened": _("Dibuka kembali karena pelapor tidak puas"),
        "closed": _("Laporan selesai"),
        "auto_closed": _("Ditutup otomatis karena tidak ada tanggapan"),
        "rejected": _("Tidak dapat diproses: bukan wewenang instansi yang terhubung"),
        "archived": _("Diarsipkan"),
    }
    if entry.kind == "forwarded":
        return _("Diverifikasi dan diteruskan ke %(name)s", name=data.get("instansi_name", ""))
    if entry.kind == "disposed":
        return _("Diteruskan ke %(name)s", name=data.get("unit_name", ""))
    if entry.kind == "rated":
        if data.get("satisfied"):
            return _("Penilaian pelapor: puas (%(rating)s dari 5)", rating=data.get("rating"))
        return _("Penilaian pelapor: tidak puas (%(rating)s dari 5)", rating=data.get("rating"))
    return labels.get(entry.kind, _("Pembaruan"))


def _status_page(
    tracking_id: str,
    secret: str | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    try:
        view = reports.get_public(db.session(), tracking_id=tracking_id, secret=secret)
    except NotFound:
        return _not_found()
    report = view.report
    region_name, zone = _region(report.region_code)
    due = _when(view.current_due_at, zone)
    asked = [t.text for t in view.timeline if t.kind == "on_hold"]
    follow_ups = [t.text for t in view.timeline if t.kind == "follow_up"]
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return _page(
        "citizen/status.html",
        status_code,
        report=report,
        owner=view.owner,
        secret=secret if view.owner else None,
        wrong_secret=bool(secret) and not view.owner,
        region_name=region_name,
        classification=dict((c[0], c[1]) for c in classifications()).get(report.classification),
        category=category_labels().get(report.category, report.category),
        steps=_steps(view.timeline, report.status, due, zone),
        history=[(_when(t.at, zone), _event(t), t.text) for t in view.timeline],
        due=due,
        asked=asked[-1] if asked else None,
        follow_up=follow_ups[-1] if follow_ups else None,
        waiting_info=report.status == status.ON_HOLD,
        waiting_rating=report.status == status.FOLLOWED_UP,
        can_reopen=report.reopen_count < 1,
        files=(
            attachments.list_for(
                db.session(), who=attachments.Pelapor(secret), tracking_id=report.tracking_id
            )
            if view.owner
            else []
        ),
        **context,
    )


@blp.get("/lapor/<tracking_id>")
def report_status(tracking_id: str) -> Response:
    secret = request.args.get("secret", "").strip()[:128] or None
    done = {
        "info": _("Informasi tambahan Anda sudah terkirim."),
        "rating": _("Terima kasih atas penilaian Anda."),
    }
    return _status_page(tracking_id, secret, notice=done.get(request.args.get("done", "")))


@blp.post("/lapor/<tracking_id>/balas")
def reply(tracking_id: str) -> Response:
    form = request.form
    secret = form.get("secret", "")[:128]
    kind = form.get("kind", "")
    values = {
        "text": form.get("text", "").strip(),
        "satisfied": form.get("satisfied", ""),
        "rating": form.get("rating", ""),
    }

    def again(code: int, **context: Any) -> Response:
        return _status_page(tracking_id, secret or None, code, values=values, kind=kind, **context)

    if not session.login_csrf_ok():
        return again(400, error=_expired())
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"secret": secret, "kind": kind, "text": values["text"] or None}
    if kind == "rating":
        if values["satisfied"] not in ("puas", "tidak_puas"):
            errors["satisfied"] = _("Pilih puas atau tidak puas.")
        elif values["satisfied"] == "tidak_puas" and not values["text"]:
            errors["text"] = _("Tuliskan alasan Anda tidak puas.")
        data["satisfied"] = values["satisfied"] == "puas"
        data["rating"] = values["rating"] or None
        if not values["rating"]:
            errors["rating"] = _("Pilih nilai %(min)s sampai %(max)s.", min=1, max=5)
    elif kind == "info" and not values["text"]:
        errors["text"] = _("Wajib diisi.")
    loaded = _load(ReplySchema(), data, errors)
    if "secret" in errors or "kind" in errors:
        return _not_found()
    if errors:
        return again(422, errors=errors)
    try:
        reports.reply(
            db.session(), tracking_id=tracking_id, secret=loaded.pop("secret"), data=loaded
        )
    except NotFound:
        return _not_found()
    except Conflict:
        return again(409, error=_("Laporan ini sudah berpindah tahap: lihat statusnya di bawah."))
    except DomainError:
        return again(422, error=_("Isian ini tidak valid."))
    where = url_for("citizen.report_status", tracking_id=tracking_id, secret=secret, done=kind)
    return redirect(where, code=303)  # type: ignore[return-value]


# --- re-sending the links --------------------------------------------------------------------


@blp.get("/lacak/kirim-ulang")
def resend_form() -> Response:
    return _page("citizen/resend.html", values={"email": ""}, errors={})


@blp.post("/lacak/kirim-ulang")
def resend_post() -> Response:
    values = {"email": request.form.get("email", "").strip()}
    if not session.login_csrf_ok():
        return _page("citizen/resend.html", 400, values=values, errors={}, error=_expired())
    errors: dict[str, str] = {}
    loaded = _load(ResendLinkSchema(), dict(values), errors)
    if errors:
        return _page("citizen/resend.html", 422, values=values, errors=errors)
    pelapor_notices.resend_links(db.session(), email=loaded["email"])
    return _page("citizen/resend.html", values={"email": ""}, errors={}, sent=True)
