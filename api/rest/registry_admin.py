"""The instansi registry for national admins: look one up, rename, merge, split; open reports
move with the work (see `engine.services.registry_admin`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.registry_admin import (
    InstansiDetailSchema,
    InstansiMergeSchema,
    InstansiRenameSchema,
    InstansiSplitSchema,
    RegistryChangeSchema,
)
from engine.services import registry_admin

blp = Blueprint(
    "registry_admin",
    __name__,
    url_prefix="/api/v1/admin/instansi",
    description="Instansi registry: rename, merge, split (national admins)",
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/<code>")
class InstansiItem(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, InstansiDetailSchema)
    def get(self, code: str) -> Any:
        """An instansi (also an inactive one) with its units and open-report count."""
        return registry_admin.get(db.session(), principal=current_principal(), code=code)

    @blp.doc(security=SECURITY)
    @blp.arguments(InstansiRenameSchema)
    @blp.response(200, RegistryChangeSchema)
    def patch(self, body: dict[str, Any], code: str) -> Any:
        """Rename the instansi (its code stays)."""
        return registry_admin.rename(
            db.session(), principal=current_principal(), code=code, name=body["name"]
        )


@blp.route("/<code>/merge")
class Merge(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(InstansiMergeSchema)
    @blp.response(200, RegistryChangeSchema)
    def post(self, body: dict[str, Any], code: str) -> Any:
        """Merge the instansi into `into`: it becomes inactive; its units, staff roles,
        supervised instansi and open reports move (running processes keep running)."""
        return registry_admin.merge(
            db.session(), principal=current_principal(), source_code=code, target_code=body["into"]
        )


@blp.route("/<code>/split")
class Split(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(InstansiSplitSchema)
    @blp.response(201, RegistryChangeSchema)
    def post(self, body: dict[str, Any], code: str) -> Any:
        """Make a new instansi from some units of this one; the open reports at those units
        move with them."""
        return registry_admin.split(
            db.session(),
            principal=current_principal(),
            source_code=code,
            new_code=body["code"],
            new_name=body["name"],
            unit_codes=body["units"],
        )
