"""The public registry for pickers: regions and instansi search (no login needed)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.blueprint import Blueprint
from api.schemas.registry import (
    InstansiQuerySchema,
    InstansiSchema,
    RegionQuerySchema,
    RegionSchema,
)
from engine.services import registry

blp = Blueprint(
    "registry", __name__, url_prefix="/api/v1", description="Regions and instansi (public)"
)


@blp.route("/regions")
class Regions(MethodView):
    @blp.arguments(RegionQuerySchema, location="query")
    @blp.response(200, RegionSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Provinces, or the regencies and cities of `parent`."""
        return registry.regions(db.session(), parent_code=query["parent"])


@blp.route("/instansi")
class InstansiSearch(MethodView):
    @blp.arguments(InstansiQuerySchema, location="query")
    @blp.response(200, InstansiSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Active instansi whose name or code has every word of `q`, optionally in `region`."""
        return registry.search_instansi(
            db.session(), query=query["q"], region_code=query["region"], limit=query["limit"]
        )
