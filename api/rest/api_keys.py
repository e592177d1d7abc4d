"""API keys of integrated agency apps: instansi admins (and national admins) create, list and
revoke them. The key itself is in the creation answer only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.auth import (
    ApiKeyCreateSchema,
    ApiKeyQuerySchema,
    ApiKeySchema,
    CreatedApiKeySchema,
)
from engine.services import api_keys

blp = Blueprint(
    "api_keys",
    __name__,
    url_prefix="/api/v1/api-keys",
    description="API keys of integrated agency apps (admin_instansi or admin_nasional)",
)
SECURITY = [{"bearer": []}]


@blp.route("")
class ApiKeys(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(ApiKeyQuerySchema, location="query")
    @blp.response(200, ApiKeySchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The keys of an instansi (default: every instansi I administer), newest first."""
        return api_keys.list_keys(
            db.session(), principal=current_principal(), instansi_code=query["instansi"]
        )

    @blp.doc(security=SECURITY)
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, CreatedApiKeySchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a key for one instansi with named permissions: `reports:read`,
        `reports:write`, `tasks:read`, `tasks:write`, `webhooks:manage`. The answer holds the
        key; it is never shown again (only its hash is stored)."""
        created = api_keys.create(
            db.session(),
            principal=current_principal(),
            instansi_code=body["instansi"],
            name=body["name"],
            permissions=body["permissions"],
        )
        return {**asdict(created.view), "key": created.key}


@blp.route("/<int:key_id>")
class ApiKeyById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, ApiKeySchema)
    def delete(self, key_id: int) -> Any:
        """Revoke the key: its next request is 401. Another instansi's key is 404."""
        return api_keys.revoke(db.session(), principal=current_principal(), key_id=key_id)
