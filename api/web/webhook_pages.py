"""Webhook pages for admins (national, or of an instansi): the endpoints, a form to add one
(its secret shown once), and per endpoint its delivery log with a "send test" button.

`sla.admin_webhooks` decides who may see and change what; these pages show its answers.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext

from api.db import db
from api.schemas.sla_admin import WebhookCreateSchema
from api.web.admin import _refused
from api.web.forms import load_form
from api.web.pages import add_nav_link, page_blueprint, staff_form, staff_or_login
from engine.errors import DomainError
from sla import admin_webhooks, changes
from sla.admin import ADMINS

blp = page_blueprint("webhook_pages", __name__)
add_nav_link(
    "webhook_pages.webhooks",
    lambda: str(lazy_gettext("Webhook")),
    roles=frozenset(ADMINS),
    order=40,
)
FIELDS = ["instansi", "url"]
TYPES = changes.TYPES + admin_webhooks.ALERT_TYPES
LOG_LENGTH = 50


def _list_page(
    principal: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    created: dict[str, Any] | None = None,
) -> Response:
    try:
        hooks = admin_webhooks.list_webhooks(db.session(), principal=principal)
    except DomainError as exc:
        hooks, errors = [], {**(errors or {}), **_refused(exc)}
        status = max(status, exc.status)
    return Response(
        render_template(
            "webhooks/list.html",
            hooks=hooks,
            types=TYPES,
            errors=errors or {},
            values=values or {},
            created=created,
            done=request.args.get("done"),
        ),
        status=status,
    )


@blp.get("/admin/webhook")
def webhooks() -> Response:
    staff = staff_or_login(*ADMINS)
    if isinstance(staff, Response):
        return staff
    return _list_page(staff[0])


@blp.post("/admin/webhook")
def webhook_add() -> Response:
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    data, errors, values = load_form(WebhookCreateSchema(), FIELDS)
    chosen = [t for t in request.form.getlist("event_types") if t]
    values = {**values, "event_types": chosen}
    if data is None:
        return _list_page(staff[0], status=422, errors=errors, values=values)
    try:
        hook, secret = admin_webhooks.create_webhook(
            db.session(),
            principal=staff[0],
            instansi_code=data["instansi"],
            url=data["url"],
            event_types=chosen or None,
        )
    except DomainError as exc:
        shown = [*FIELDS, "event_types"]
        return _list_page(staff[0], status=exc.status, errors=_refused(exc, shown), values=values)
    return _list_page(staff[0], status=201, created={"hook": hook, "secret": secret})


def _log_page(principal: Any, webhook_id: int, *, status: int = 200, error: str = "") -> Response:
    try:
        hook = admin_webhooks.get_webhook(db.session(), principal=principal, webhook_id=webhook_id)
        log = admin_webhooks.deliveries(
            db.session(), principal=principal, webhook_id=webhook_id, limit=LOG_LENGTH
        )
    except DomainError as exc:
        page = render_template("webhooks/log.html", hook=None, log=[], error=_refused(exc)["_form"])
        return Response(page, status=exc.status)
    page = render_template(
        "webhooks/log.html", hook=hook, log=log, error=error, done=request.args.get("done")
    )
    return Response(page, status=status)


@blp.get("/admin/webhook/<int:webhook_id>")
def webhook_log(webhook_id: int) -> Response:
    staff = staff_or_login(*ADMINS)
    if isinstance(staff, Response):
        return staff
    return _log_page(staff[0], webhook_id)


def _act(webhook_id: int, action: Any, done: str) -> Response:
    """Run `action` on the endpoint for the signed-in admin, then show its log (or refusal)."""
    staff = staff_form(*ADMINS)
    if isinstance(staff, Response):
        return staff
    try:
        action(db.session(), principal=staff[0], webhook_id=webhook_id)
    except DomainError as exc:
        return _log_page(staff[0], webhook_id, status=exc.status, error=_refused(exc)["_form"])
    target = url_for(".webhook_log", webhook_id=webhook_id, done=done)
    return redirect(target, code=303)  # type: ignore[return-value]


@blp.post("/admin/webhook/<int:webhook_id>/uji")
def webhook_test(webhook_id: int) -> Response:
    return _act(webhook_id, admin_webhooks.send_test, "test")


@blp.post("/admin/webhook/<int:webhook_id>/nonaktifkan")
def webhook_off(webhook_id: int) -> Response:
    return _act(webhook_id, admin_webhooks.delete_webhook, "off")
