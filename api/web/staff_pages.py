"""Staff administration pages (`/admin/pengguna?instansi=CODE`): an instansi's users with their
roles and claimed tasks, a form to create a user with one role, deactivation, delegation of a
user's claimed tasks to a colleague, and a form to create a unit.

National admins manage every instansi; an instansi admin only their own. The
`engine.services.staff_admin` service decides; these pages validate with the REST API's
schemas and show each refusal next to the field it is about, in the visitor's language.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import ValidationError

from api.db import db
from api.schemas.staff_admin import DelegateSchema, UnitCreateSchema, UserCreateSchema
from api.web.forms import field_errors, load_form
from api.web.pages import add_nav_link, page_blueprint, staff_form, staff_or_login
from engine.errors import Conflict, DomainError, Forbidden, NotFound
from engine.models.users import UNIT_ROLES
from engine.services import staff_admin
from engine.services.auth import Principal
from engine.services.staff_admin import MIN_PASSWORD, RoleGrant

ADMINS = ("admin_nasional", "admin_instansi")
GRANTABLE = ("admin_instansi", "admin_unit", "pejabat_penghubung", "supervisor")
USER_FIELDS = ["username", "full_name", "email", "password", "role", "unit"]
UNIT_FIELDS = ["code", "name"]
USERNAME_RULE = "lowercase letters, digits, . _ -"

blp = page_blueprint("staff_pages", __name__)
add_nav_link(
    "staff_pages.users",
    lambda: str(lazy_gettext("Pengguna dan unit")),
    roles=frozenset(ADMINS),
    order=40,
)


def role_label(role: str) -> str:
    labels = {
        "admin_nasional": _("Admin nasional"),
        "admin_instansi": _("Admin instansi"),
        "admin_unit": _("Admin unit"),
        "pejabat_penghubung": _("Pejabat penghubung"),
        "supervisor": _("Pengawas"),
        "process_designer": _("Perancang proses"),
        "operator": _("Operator"),
    }
    return labels.get(role, role)


@blp.context_processor
def helpers() -> dict[str, Any]:
    return {"role_label": role_label, "grantable": GRANTABLE}


# ---- reading ---------------------------------------------------------------------------------


def _own_instansi(principal: Principal) -> str:
    """The code of the first instansi the principal administers ('' for national admins)."""
    return staff_admin.own_instansi_code(db.session(), principal=principal) or ""


def _units(principal: Principal, code: str) -> list[tuple[str, str]]:
    """(code, name) of the instansi's units."""
    units = staff_admin.units_of(db.session(), principal=principal, instansi_code=code)
    return [(unit.code, unit.name) for unit in units]


def _page(
    principal: Principal,
    code: str,
    *,
    status: int = 200,
    active: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    users: list[staff_admin.UserView] = []
    units: list[tuple[str, str]] = []
    errors = dict(errors or {})
    if code:
        try:
            users = staff_admin.list_users(db.session(), principal=principal, instansi_code=code)
        except Forbidden:
            page = render_template("forbidden.html")
            return Response(page, status=403)
        except NotFound:
            errors = {"instansi": _("Instansi dengan kode ini tidak ditemukan.")}
            status, code = max(status, 404), ""
        else:
            units = _units(principal, code)
    return Response(
        render_template(
            "staff/users.html",
            instansi=code,
            users=users,
            units=units,
            active=active,
            errors=errors,
            values=values or {},
            done=request.args.get("selesai", "")[:16],
            subject=request.args.get("nama", "")[:64],
            moved=request.args.get("pindah", "")[:6],
            kept=request.args.get("tetap", "")[:6],
        ),
        status=status,
    )


def _back(code: str, done: str, **extra: Any) -> Response:
    target = url_for(".users", instansi=code, selesai=done, **extra)
    return redirect(target, code=303)  # type: ignore[return-value]


def _posted_instansi() -> str:
    return request.form.get("instansi", "").strip()[:32]


@blp.get("/admin/pengguna")
def users() -> Response:
    staff = staff_or_login(*ADMINS)
    if isinstance(staff, Response):
        return staff
    asked = request.args.get("instansi", "").strip()[:32]
    return _page(staff[0], asked or _own_instansi(staff[0]))


# ---- creating a user -------------------------------------------------------------------------


def _user_form() -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    """The posted user, validated by the API's schema: (data, errors by field, raw values)."""
    raw = {name: request.form.get(name, "").strip() for name in USER_FIELDS}
    raw["password"] = request.form.get("password", "")
    grant = {"role": raw["role"] or None, "instansi_code": _posted_instansi() or None}
    grant["unit_code"] = raw["unit"] or None
    given: dict[str, Any] = {k: raw[k] for k in ("username", "full_name", "password") if raw[k]}
    if raw["email"]:
        given["email"] = raw["email"]
    given["roles"] = [grant]
    errors: dict[str, str] = {}
    data = None
    try:
        data = UserCreateSchema().load(given)
    except ValidationError as exc:
        errors = field_errors(exc)
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        if USERNAME_RULE in str(messages.get("username", "")):
            errors["username"] = _("Pakai huruf kecil, angka, titik, garis bawah, atau minus.")
        if "email" in errors:
            errors["email"] = _("Alamat email tidak valid.")
        if "password" in messages and raw["password"]:
            errors["password"] = _("Kata sandi paling sedikit %(n)s karakter.", n=MIN_PASSWORD)
        if "roles" in errors:
            errors.pop("roles")
            errors["role"] = _("Pilih salah satu peran.")
    if raw["role"] in UNIT_ROLES and not raw["unit"]:
        errors["unit"] = _("Peran ini memerlukan unit kerja.")
    raw["password"] = ""  # never sent back to the browser
    return (None if errors else data), errors, raw


def _user_refused(exc: DomainError, unit_given: bool) -> dict[str, str]:
    if isinstance(exc, Conflict) and exc.field == "username":
        return {"username": _("Nama pengguna ini sudah dipakai.")}
    if exc.field == "password":
        return {"password": _("Kata sandi paling sedikit %(n)s karakter.", n=MIN_PASSWORD)}
    if exc.field == "roles" and unit_given and not isinstance(exc, Forbidden):
        return {"unit": _("Pilih unit kerja dari instansi ini.")}
    if exc.field == "roles" and not isinstance(exc, Forbidden):
        return {"role": _("Peran ini tidak dapat diberikan di sini.")}
    return {"_form": _("Anda tidak berwenang melakukan perubahan ini.")}


@blp.post("/admin/pengguna")
def create_user() -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    code = _posted_instansi()
    data, errors, values = _user_form()
    if data is None:
        return _page(staff[0], code, status=422, active="user", errors=errors, values=values)
    grants = [RoleGrant(**grant) for grant in data.pop("roles")]
    try:
        made = staff_admin.create_user(db.session(), principal=staff[0], roles=grants, **data)
    except DomainError as exc:
        status = 403 if isinstance(exc, Forbidden) else exc.status
        refused = _user_refused(exc, bool(values["unit"]))
        return _page(staff[0], code, status=status, active="user", errors=refused, values=values)
    return _back(code, "dibuat", nama=made.username)


# ---- deactivating and delegating -------------------------------------------------------------


@blp.post("/admin/pengguna/<int:user_id>/nonaktifkan")
def deactivate(user_id: int) -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    code = _posted_instansi()
    try:
        closed = staff_admin.deactivate(db.session(), principal=staff[0], user_id=user_id)
    except NotFound:
        errors = {"_form": _("Pengguna tidak ditemukan.")}
        return _page(staff[0], code, status=404, errors=errors)
    except Conflict:
        errors = {"_form": _("Anda tidak dapat menonaktifkan akun Anda sendiri.")}
        return _page(staff[0], code, status=409, errors=errors)
    return _back(code, "nonaktif", nama=closed.username)


@blp.post("/admin/pengguna/<int:user_id>/delegasi")
def delegate(user_id: int) -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    code = _posted_instansi()
    active = f"delegate-{user_id}"
    data, errors, values = load_form(DelegateSchema(), ["to_user_id"], frozenset({"to_user_id"}))
    if data is None:
        errors = {"to_user_id": _("Pilih rekan kerja.")}
        return _page(staff[0], code, status=422, active=active, errors=errors, values=values)
    try:
        moved, kept = staff_admin.delegate_tasks(
            db.session(), principal=staff[0], from_user_id=user_id, to_user_id=data["to_user_id"]
        )
    except NotFound as exc:
        if exc.field == "to_user_id":
            errors = {"to_user_id": _("Pilih rekan kerja yang masih aktif.")}
            return _page(staff[0], code, status=404, active=active, errors=errors, values=values)
        return _page(staff[0], code, status=404, errors={"_form": _("Pengguna tidak ditemukan.")})
    except Forbidden:
        errors = {"_form": _("Anda tidak berwenang melakukan perubahan ini.")}
        return _page(staff[0], code, status=403, errors=errors)
    return _back(code, "delegasi", pindah=moved, tetap=kept)


# ---- creating a unit -------------------------------------------------------------------------


@blp.post("/admin/unit")
def create_unit() -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    code = _posted_instansi()
    data, errors, values = load_form(UnitCreateSchema(), ["instansi", *UNIT_FIELDS])
    if data is None:
        errors.pop("instansi", None)
        errors = errors or {"_form": _("Instansi dengan kode ini tidak ditemukan.")}
        return _page(staff[0], code, status=422, active="unit", errors=errors, values=values)
    try:
        unit = staff_admin.create_unit(
            db.session(),
            principal=staff[0],
            instansi_code=data["instansi"],
            code=data["code"],
            name=data["name"],
        )
    except DomainError as exc:
        if isinstance(exc, Conflict):
            errors = {"code": _("Kode unit ini sudah dipakai.")}
        elif isinstance(exc, NotFound):
            errors = {"_form": _("Instansi dengan kode ini tidak ditemukan.")}
        elif exc.field == "code":
            errors = {
                "code": _(
                    "Kode unit diawali kode instansi dan tanda minus, mis. %(e)s.",
                    e=f"{code}-DINKES",
                )
            }
        else:
            errors = {"_form": _("Anda tidak berwenang melakukan perubahan ini.")}
        status = 403 if isinstance(exc, Forbidden) else exc.status
        return _page(staff[0], code, status=status, active="unit", errors=errors, values=values)
    return _back(code, "unit", nama=unit.code)
