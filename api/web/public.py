"""The public feed pages, no account needed: `/publik` lists published reports (not rahasia,
verified and forwarded) with a search and filters by instansi and region, `/publik/<id>` shows
one with its public timeline and follow-ups.

Everything shown comes from `engine.services.public_feed`, which masks phone numbers, email
addresses and NIK, applies officers' redactions, and never gives an anonim pelapor's name.
The filter form is a plain GET form: without JavaScript, choosing a province and pressing
"Terapkan" brings its regencies; an instansi is typed by code or name, and when the name fits
several the page lists them to pick from.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from api.db import db
from api.web.citizen import category_labels, classifications
from api.web.pages import add_nav_link, page_blueprint
from engine.errors import InvalidInput, NotFound
from engine.services import public_feed, registry

blp = page_blueprint("public", __name__)
add_nav_link("public.feed", lambda: _("Laporan publik"), roles=None, order=10)

SHOWN_IN = ZoneInfo("Asia/Jakarta")
EXCERPT = 280


def status_label(code: str) -> str:
    names: dict[str, Callable[[], str]] = {
        "forwarded": lambda: _("Diteruskan ke instansi"),
        "in_progress": lambda: _("Sedang ditindaklanjuti"),
        "followed_up": lambda: _("Sudah ditindaklanjuti"),
        "reopened": lambda: _("Dibuka kembali"),
        "closed": lambda: _("Selesai"),
    }
    return names[code]() if code in names else code


def event_label(entry: public_feed.PublicEntry) -> str:
    labels: dict[str, Callable[[], str]] = {
        "filed": lambda: _("Laporan diterima"),
        "on_hold": lambda: _("Ditunda: petugas meminta informasi tambahan"),
        "returned": lambda: _("Dikembalikan untuk diteruskan ke instansi lain"),
        "follow_up": lambda: _("Tindak lanjut dari instansi"),
        "reopened": lambda: _("Dibuka kembali karena pelapor tidak puas"),
        "closed": lambda: _("Laporan selesai"),
        "auto_closed": lambda: _("Ditutup otomatis karena tidak ada tanggapan"),
    }
    if entry.kind == "forwarded":
        return _("Diverifikasi dan diteruskan ke %(name)s", name=entry.instansi_name or "")
    if entry.kind == "disposed":
        return _("Diteruskan ke %(name)s", name=entry.unit_name or "")
    if entry.kind == "rated" and entry.rating is not None:
        if entry.satisfied:
            return _("Penilaian pelapor: puas (%(rating)s dari 5)", rating=entry.rating)
        return _("Penilaian pelapor: tidak puas (%(rating)s dari 5)", rating=entry.rating)
    return labels[entry.kind]() if entry.kind in labels else _("Pembaruan")


def day(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return str(format_date(moment.astimezone(SHOWN_IN), "d MMMM y", locale=str(get_locale())))


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + " …"


def _helpers() -> dict[str, Any]:
    return {
        "status_label": status_label,
        "event_label": event_label,
        "day": day,
        "excerpt": excerpt,
        "classification_label": dict((c[0], c[1]) for c in classifications()),
        "category_label": category_labels(),
    }


def _filters() -> dict[str, str]:
    args = request.args
    return {
        "q": args.get("q", "").strip()[: public_feed.MAX_QUERY],
        "instansi": args.get("instansi", "").strip()[: registry.MAX_QUERY],
        "province": args.get("province", "").strip()[:16],
        "regency": args.get("regency", "").strip()[:16],
    }


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= public_feed.MAX_PAGE else 1


def _instansi(text: str, errors: dict[str, str]) -> tuple[str | None, list[Any]]:
    """The instansi code `text` names (a code, or a name fitting one instansi), else the
    instansi to choose from."""
    if not text:
        return None, []
    found = registry.search_instansi(db.session(), query=text, limit=registry.MAX_RESULTS)
    exact = [i for i in found if i.code.lower() == text.lower()]
    if exact:
        return exact[0].code, []
    if len(found) == 1:
        return found[0].code, []
    if not found:
        errors["instansi"] = _("Instansi ini tidak ditemukan atau tidak aktif.")
    return None, found


@blp.get("/publik")
def feed() -> Response:
    filters = _filters()
    errors: dict[str, str] = {}
    provinces = registry.regions(db.session())
    codes = {p.code for p in provinces}
    province = filters["province"] if filters["province"] in codes else ""
    if filters["province"] and not province:
        errors["province"] = _("Wilayah ini tidak dikenal.")
    regencies = registry.regions(db.session(), parent_code=province) if province else []
    regency = filters["regency"]
    if regency and regency not in {r.code for r in regencies}:
        errors["regency"] = _("Kabupaten/kota ini tidak berada di provinsi yang dipilih.")
        regency = ""
    instansi_code, choices = _instansi(filters["instansi"], errors)
    result = None
    if not errors and not choices:
        try:
            result = public_feed.feed(
                db.session(),
                query=filters["q"],
                instansi_code=instansi_code,
                region_code=regency or province or None,
                page=_page_number(),
                per_page=public_feed.PER_PAGE,
            )
        except InvalidInput:
            errors["q"] = _("Isian ini tidak valid.")
    kept = {k: v for k, v in filters.items() if v}
    status_code = 422 if errors else 200
    page = render_template(
        "public/feed.html",
        filters=filters,
        errors=errors,
        provinces=provinces,
        regencies=regencies,
        choices=choices,
        result=result,
        kept=kept,
        **_helpers(),
    )
    return Response(page, status=status_code)


@blp.get("/publik/<tracking_id>")
def report(tracking_id: str) -> Response:
    try:
        view = public_feed.report(db.session(), tracking_id=tracking_id[:32])
    except NotFound:
        page = render_template("public/not_found.html", back=url_for("public.feed"))
        return Response(page, status=404)
    follow_ups = [e for e in view.timeline if e.kind == "follow_up" and e.text]
    return Response(
        render_template("public/report.html", report=view, follow_ups=follow_ups, **_helpers())
    )
