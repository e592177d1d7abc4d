"""Service-level administration (bearer token): calendar days, SLA policies, office hours,
webhooks, and the delivery outbox for operators. Who may do what is decided by the `sla.admin_*`
services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.sla_admin import (
    AdjustmentChangeSchema,
    AdjustmentSchema,
    CalendarDaySchema,
    CalendarQuerySchema,
    DeliveryQuerySchema,
    OfficeHoursChangeSchema,
    OfficeHoursSchema,
    OfficeHoursSetSchema,
    OutboxMessageSchema,
    OutboxQuerySchema,
    PolicyChangeSchema,
    PolicyListingSchema,
    PolicyQuerySchema,
    PolicySetSchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookQuerySchema,
    WebhookSchema,
)
from sla import admin_calendar, admin_hours, admin_outbox, admin_policies, admin_webhooks

blp = Blueprint(
    "sla_admin",
    __name__,
    url_prefix="/api/v1/admin",
    description=(
        "Service-level administration: calendar, SLA policies, office hours, webhooks, outbox"
    ),
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/calendar")
class Calendar(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, AdjustmentSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Days made holidays or working days in a year (admins)."""
        return admin_calendar.list_adjustments(db.session(), principal=current_principal(), **query)

    @blp.doc(security=SECURITY)
    @blp.arguments(CalendarDaySchema)
    @blp.response(201, AdjustmentChangeSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Make a day a holiday or a working day (national, a region, or one instansi); open
        due moments are recomputed."""
        adjustment, moved = admin_calendar.add_day(
            db.session(), principal=current_principal(), **body
        )
        return {"adjustment": adjustment, "moved": moved}


@blp.route("/calendar/<int:adjustment_id>")
class CalendarDay(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AdjustmentChangeSchema)
    def delete(self, adjustment_id: int) -> dict[str, Any]:
        """Take an adjustment out of force; open due moments are recomputed."""
        adjustment, moved = admin_calendar.remove_day(
            db.session(), principal=current_principal(), adjustment_id=adjustment_id
        )
        return {"adjustment": adjustment, "moved": moved}


@blp.route("/sla-policies")
class Policies(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(PolicyQuerySchema, location="query")
    @blp.response(200, PolicyListingSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The effective policy of each milestone, nationally or for an instansi, and its source."""
        return admin_policies.list_policies(
            db.session(), principal=current_principal(), instansi_code=query["instansi"]
        )

    @blp.doc(security=SECURITY)
    @blp.arguments(PolicySetSchema)
    @blp.response(200, PolicyChangeSchema)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set the policy of a milestone (and classification); an instansi's may not exceed the
        national maximum. Open due moments it reaches are recomputed."""
        instansi_code = body.pop("instansi")
        policy, moved = admin_policies.set_policy(
            db.session(), principal=current_principal(), instansi_code=instansi_code, **body
        )
        return {"policy": policy, "moved": moved}


@blp.route("/sla-policies/<int:policy_id>")
class Policy(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, PolicyChangeSchema)
    def delete(self, policy_id: int) -> dict[str, Any]:
        """Remove a policy: the level above applies again."""
        policy, moved = admin_policies.delete_policy(
            db.session(), principal=current_principal(), policy_id=policy_id
        )
        return {"policy": policy, "moved": moved}


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(WebhookQuerySchema, location="query")
    @blp.response(200, WebhookSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Webhook endpoints (never their secrets)."""
        return admin_webhooks.list_webhooks(
            db.session(), principal=current_principal(), instansi_code=query["instansi"]
        )

    @blp.doc(security=SECURITY)
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register an endpoint; the answer carries its signing secret, shown this once."""
        webhook, secret = admin_webhooks.create_webhook(
            db.session(),
            principal=current_principal(),
            instansi_code=body["instansi"],
            url=body["url"],
            source=body["source"],
            api_key_id=body["api_key_id"],
            event_types=body["event_types"],
        )
        return {**asdict(webhook), "secret": secret}


@blp.route("/webhooks/<int:webhook_id>")
class Webhook(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, WebhookSchema)
    def delete(self, webhook_id: int) -> Any:
        """Deactivate an endpoint."""
        return admin_webhooks.delete_webhook(
            db.session(), principal=current_principal(), webhook_id=webhook_id
        )


@blp.route("/webhooks/<int:webhook_id>/test")
class WebhookTest(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(202, OutboxMessageSchema)
    def post(self, webhook_id: int) -> Any:
        """Queue a signed `test` event for the endpoint."""
        return admin_webhooks.send_test(
            db.session(), principal=current_principal(), webhook_id=webhook_id
        )


@blp.route("/webhooks/<int:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, OutboxMessageSchema(many=True))
    def get(self, query: dict[str, Any], webhook_id: int) -> Any:
        """The endpoint's delivery log, newest first: each event, its attempts and last error."""
        return admin_webhooks.deliveries(
            db.session(), principal=current_principal(), webhook_id=webhook_id, **query
        )


@blp.route("/outbox")
class Outbox(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(OutboxQuerySchema, location="query")
    @blp.response(200, OutboxMessageSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Outbox messages, newest first (operators and national admins)."""
        return admin_outbox.list_outbox(db.session(), principal=current_principal(), **query)


@blp.route("/outbox/<int:message_id>/resend")
class Resend(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(202, OutboxMessageSchema)
    def post(self, message_id: int) -> Any:
        """Queue a dead or sent message again with the same event id."""
        return admin_outbox.resend(
            db.session(), principal=current_principal(), message_id=message_id
        )


@blp.route("/office-hours/<instansi_code>")
class InstansiOfficeHours(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, OfficeHoursSchema)
    def get(self, instansi_code: str) -> Any:
        """An instansi's office hours for hour-based (`wh`) deadlines, and whether they are the
        default 08:00-16:00."""
        return admin_hours.get_hours(
            db.session(), principal=current_principal(), instansi_code=instansi_code
        )

    @blp.doc(security=SECURITY)
    @blp.arguments(OfficeHoursSetSchema)
    @blp.response(200, OfficeHoursChangeSchema)
    def put(self, body: dict[str, Any], instansi_code: str) -> dict[str, Any]:
        """Set the instansi's office hours (local HH:MM, 1 to 16 hours); its open hour-based due
        moments are recomputed."""
        hours, moved = admin_hours.set_hours(
            db.session(), principal=current_principal(), instansi_code=instansi_code, **body
        )
        return {"office_hours": hours, "moved": moved}

    @blp.doc(security=SECURITY)
    @blp.response(200, OfficeHoursChangeSchema)
    def delete(self, instansi_code: str) -> dict[str, Any]:
        """Back to the default office hours (08:00-16:00); open due moments are recomputed."""
        hours, moved = admin_hours.reset_hours(
            db.session(), principal=current_principal(), instansi_code=instansi_code
        )
        return {"office_hours": hours, "moved": moved}
