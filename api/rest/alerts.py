"""The alert inbox: escalations and reminders for the signed-in officer or supervisor."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.alerts import AlertInboxSchema, AlertQuerySchema, AlertSchema
from sla import views

blp = Blueprint(
    "alerts", __name__, url_prefix="/api/v1/alerts", description="Alert inbox (bearer token)"
)
SECURITY = [{"bearer": []}]


@blp.route("")
class Alerts(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, AlertInboxSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """My alerts, newest first, with the unread count."""
        alerts, unread = views.list_alerts(db.session(), principal=current_principal(), **query)
        return {"unread": unread, "alerts": alerts}


@blp.route("/<int:alert_id>/read")
class MarkRead(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AlertSchema)
    def post(self, alert_id: int) -> Any:
        """Mark one of my alerts as read."""
        return views.mark_read(db.session(), principal=current_principal(), alert_id=alert_id)
