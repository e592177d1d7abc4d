"""Staff administration (national admins, or an instansi's admin for its own staff): users and
roles, deactivation, delegation of claimed tasks while on leave, and units."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.staff_admin import (
    DelegatedSchema,
    DelegateSchema,
    InstansiQuerySchema,
    UnitCreateSchema,
    UnitSchema,
    UserCreateSchema,
    UserSchema,
)
from engine.services import staff_admin
from engine.services.staff_admin import RoleGrant

blp = Blueprint(
    "staff_admin", __name__, url_prefix="/api/v1/admin", description="Staff: users, roles, units"
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/users")
class Users(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(InstansiQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The staff holding a role in an instansi or its units."""
        return staff_admin.list_users(
            db.session(), principal=current_principal(), instansi_code=query["instansi"]
        )

    @blp.doc(security=SECURITY)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a staff user with roles (instansi admins: roles in their own instansi)."""
        grants = [RoleGrant(**grant) for grant in body.pop("roles")]
        return staff_admin.create_user(
            db.session(), principal=current_principal(), roles=grants, **body
        )


@blp.route("/users/<int:user_id>/deactivate")
class Deactivate(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, UserSchema)
    def post(self, user_id: int) -> Any:
        """Close an account: its sessions end and its claimed tasks go back to the team."""
        return staff_admin.deactivate(db.session(), principal=current_principal(), user_id=user_id)


@blp.route("/users/<int:user_id>/delegate")
class Delegate(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(DelegateSchema)
    @blp.response(200, DelegatedSchema)
    def post(self, body: dict[str, Any], user_id: int) -> Any:
        """Hand the user's claimed open tasks to a colleague (e.g. before leave)."""
        moved, kept = staff_admin.delegate_tasks(
            db.session(),
            principal=current_principal(),
            from_user_id=user_id,
            to_user_id=body["to_user_id"],
        )
        return {"moved": moved, "kept": kept}


@blp.route("/units")
class Units(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(UnitCreateSchema)
    @blp.response(201, UnitSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a unit of an instansi (its code starts with the instansi's)."""
        return staff_admin.create_unit(
            db.session(),
            principal=current_principal(),
            instansi_code=body["instansi"],
            code=body["code"],
            name=body["name"],
        )
