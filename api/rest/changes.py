"""The change feed: what happened to reports since a cursor, for apps whose webhook was down.

The same changes are sent to webhooks (`sla.changes`); an app pulls them here with its API key
(permission `reports:read`): `after` is the `next_cursor` of its previous page (0 at first).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.changes import ChangePageSchema, ChangeQuerySchema
from sla import changes

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/api/v1/changes",
    description="The change feed of reports, pulled by cursor (integrated apps, admins)",
)


@blp.route("")
class Changes(MethodView):
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(ChangeQuerySchema, location="query")
    @blp.response(200, ChangePageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Changes after the cursor, oldest first (filed, forwarded, followed up, escalated...)."""
        return changes.changes_since(db.session(), principal=current_principal(), **query)
