"""The instansi registry pages for national admins: search an instansi, then on its page rename
it, merge it into another, or split some of its units off into a new instansi. The
`engine.services.registry_admin` service decides and audits; these pages show its answers, with
each form's errors next to its fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import ValidationError

from api.db import db
from api.schemas.registry_admin import (
    InstansiMergeSchema,
    InstansiRenameSchema,
    InstansiSplitSchema,
)
from api.web.forms import field_errors, load_form
from api.web.pages import add_nav_link, page_blueprint, staff_form, staff_or_login
from api.web.refusals import refusal
from engine.errors import DomainError
from engine.services import registry, registry_admin
from engine.services.auth import Principal

NATIONAL = "admin_nasional"
FORMS = {"rename": ["name"], "merge": ["into"], "split": ["code", "name", "units"]}
COUNTS = ("reports", "tasks", "units", "users", "supervised")

blp = page_blueprint("registry_pages", __name__)
add_nav_link(
    "registry_pages.search",
    lambda: str(lazy_gettext("Registri instansi")),
    roles=frozenset({NATIONAL}),
    order=40,
)


def _refused(error: DomainError, shown: list[str]) -> dict[str, str]:
    """A service's refusal in the page's language (by its code, never the service's English),
    next to the field it names when the form shows that field, else above the form."""
    field = error.field if error.field in shown else "_form"
    return {field: refusal(error)}


def _national() -> tuple[Principal, str] | Response:
    return staff_or_login(NATIONAL)


@blp.get("/admin/instansi")
def search() -> Response:
    staff = _national()
    if isinstance(staff, Response):
        return staff
    query = request.args.get("q", "").strip()[: registry.MAX_QUERY]
    found = registry.search_instansi(db.session(), query=query, limit=registry.MAX_RESULTS)
    return Response(render_template("registry/search.html", query=query, found=found))


def _page(
    principal: Principal,
    code: str,
    *,
    status: int = 200,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    try:
        instansi = registry_admin.get(db.session(), principal=principal, code=code)
    except DomainError as exc:
        if exc.status != 404:
            raise
        text = _("Instansi %(code)s tidak ada dalam registri.", code=code[:32])
        page = render_template("message.html", title=_("Tidak ditemukan"), text=text)
        return Response(page, status=404)
    done = request.args.get("done")
    counts = {name: request.args.get(name, type=int) or 0 for name in COUNTS}
    return Response(
        render_template(
            "registry/instansi.html",
            instansi=instansi,
            failed=failed,
            errors=errors or {},
            values=values or {},
            done=done,
            other=request.args.get("other", ""),
            counts=counts,
        ),
        status=status,
    )


@blp.get("/admin/instansi/<code>")
def instansi(code: str) -> Response:
    staff = _national()
    if isinstance(staff, Response):
        return staff
    return _page(staff[0], code)


def _after(code: str, done: str, change: registry_admin.RegistryChange) -> Response:
    counts = {name: getattr(change, name) for name in COUNTS}
    target = url_for(".instansi", code=code, done=done, other=change.target or "", **counts)
    return redirect(target, code=303)  # type: ignore[return-value]


def _apply(
    principal: Principal,
    code: str,
    form: str,
    values: dict[str, Any],
    change: Callable[[], registry_admin.RegistryChange],
    *,
    done: str,
    at_new_code: bool = False,
) -> Response:
    """Run a registry change for a page form: its page again with the refusal next to the
    field, or a redirect to the instansi (under its new code when `at_new_code`)."""
    try:
        made = change()
    except DomainError as exc:
        errors = _refused(exc, FORMS[form])
        return _page(principal, code, status=exc.status, failed=form, errors=errors, values=values)
    return _after(made.code if at_new_code else code, done, made)


@blp.post("/admin/instansi/<code>/nama")
def rename(code: str) -> Response:
    staff = staff_form(NATIONAL)
    if isinstance(staff, Response):
        return staff
    data, errors, values = load_form(InstansiRenameSchema(), FORMS["rename"])
    if data is None:
        return _page(staff[0], code, status=422, failed="rename", errors=errors, values=values)
    return _apply(
        staff[0],
        code,
        "rename",
        values,
        lambda: registry_admin.rename(
            db.session(), principal=staff[0], code=code, name=data["name"]
        ),
        done="renamed",
        at_new_code=True,
    )


@blp.post("/admin/instansi/<code>/gabung")
def merge(code: str) -> Response:
    staff = staff_form(NATIONAL)
    if isinstance(staff, Response):
        return staff
    data, errors, values = load_form(InstansiMergeSchema(), FORMS["merge"])
    if data is None:
        return _page(staff[0], code, status=422, failed="merge", errors=errors, values=values)
    return _apply(
        staff[0],
        code,
        "merge",
        values,
        lambda: registry_admin.merge(
            db.session(), principal=staff[0], source_code=code, target_code=data["into"]
        ),
        done="merged",
    )


@blp.post("/admin/instansi/<code>/pecah")
def split(code: str) -> Response:
    staff = staff_form(NATIONAL)
    if isinstance(staff, Response):
        return staff
    values: dict[str, Any] = {
        "code": request.form.get("code", "").strip(),
        "name": request.form.get("name", "").strip(),
        "units": request.form.getlist("units"),
    }
    given = {k: v for k, v in values.items() if k == "units" or v}
    try:
        data = InstansiSplitSchema().load(given)
    except ValidationError as exc:
        errors = field_errors(exc)
        if "units" in errors and not values["units"]:
            errors["units"] = _("Pilih paling sedikit satu unit kerja.")
        return _page(staff[0], code, status=422, failed="split", errors=errors, values=values)
    return _apply(
        staff[0],
        code,
        "split",
        values,
        lambda: registry_admin.split(
            db.session(),
            principal=staff[0],
            source_code=code,
            new_code=data["code"],
            new_name=data["name"],
            unit_codes=data["units"],
        ),
        done="split",
    )
