"""Public report endpoints: file, track, reply (no login; the pelapor holds a secret).

Agency apps and gateways file through the same endpoint with their API key (`reports:write`):
the report remembers the app (its webhooks and change feed follow it) and the app's
`external_ref`, and an `Idempotency-Key` header makes retries safe (`engine.services.idempotency`).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy.orm import Session

from api.db import db
from api.rest import auth
from api.rest.blueprint import Blueprint
from api.schemas.reports import (
    FiledSchema,
    PublicReportSchema,
    ReplyResultSchema,
    ReplySchema,
    ReportCreateSchema,
    SecretQuerySchema,
)
from engine.errors import InvalidInput
from engine.services import idempotency, reports
from engine.services.auth import Principal

blp = Blueprint(
    "reports", __name__, url_prefix="/api/v1/reports", description="File and track reports (public)"
)


IDEMPOTENCY_DOC = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "with an API key or staff token: the same key within 24 hours returns the "
    "first answer (header `Idempotent-Replayed: true`) and files nothing new",
}


@blp.route("")
class Reports(MethodView):
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, FiledSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data: dict[str, Any]) -> Any:
        """File a report; answers with the tracking id and the pelapor's secret.

        Anyone may file. An agency app files with its API key (`X-API-Key`, permission
        `reports:write`) and may give its own `external_ref`; with an `Idempotency-Key` a retry
        returns the first answer instead of filing again.
        """
        key = idempotency.checked_key(request.headers.get(idempotency.HEADER))
        principal = auth.current_principal() if auth.has_staff_credentials() else None
        channel = _channel_of(principal, data.pop("external_ref", None))
        session = db.session()
        if key is None:
            return _file(session, data, channel, None)
        if principal is None:
            raise InvalidInput(
                f"{idempotency.HEADER} needs an API key or a staff token "
                "(anonymous filings cannot be matched to their retries)",
                field=idempotency.HEADER,
            )
        answer = idempotency.perform_once(
            session,
            caller=idempotency.caller_of(principal),
            key=key,
            request={**data, "external_ref": channel.external_ref if channel else None},
            perform=lambda remember: (201, _file(session, data, channel, remember)),
        )
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        return answer.body, answer.status_code, headers


def _channel_of(principal: Principal | None, external_ref: str | None) -> reports.Channel | None:
    """The filing app, when an API key files; `external_ref` only comes with one."""
    if principal is None or principal.api_key_id is None:
        if external_ref is not None:
            raise InvalidInput(
                "external_ref is for apps filing with an API key", field="external_ref"
            )
        return None
    return reports.Channel(principal.api_key_id, external_ref)


def _file(
    session: Session,
    data: dict[str, Any],
    channel: reports.Channel | None,
    remember: idempotency.Remember | None,
) -> dict[str, Any]:
    def answer(filed: reports.FiledReport) -> dict[str, Any]:
        return {
            "tracking_id": filed.report.tracking_id,
            "secret": filed.secret,
            "status": filed.report.status,
            "external_ref": channel.external_ref if channel else None,
        }

    def after_filed(inner: Session, filed: reports.FiledReport) -> None:
        if remember is not None:
            remember(inner, 201, answer(filed), filed.report.id)

    return answer(reports.create(session, data=data, channel=channel, after_filed=after_filed))


@blp.route("/<string:tracking_id>")
class ReportByTracking(MethodView):
    @blp.arguments(SecretQuerySchema, location="query")
    @blp.response(200, PublicReportSchema)
    def get(self, query: dict[str, Any], tracking_id: str) -> dict[str, Any]:
        """Status and public timeline; a rahasia report needs the pelapor's secret."""
        view = reports.get_public(db.session(), tracking_id=tracking_id, secret=query["secret"])
        r = view.report
        return {
            "tracking_id": r.tracking_id,
            "classification": r.classification,
            "category": r.category,
            "title": r.title,
            "body": r.body,
            "region_code": r.region_code,
            "status": r.status,
            "anonim": r.anonim,
            "rahasia": r.rahasia,
            "created_at": r.created_at,
            "closed_at": r.closed_at,
            "current_due_at": view.current_due_at,
            "timeline": view.timeline,
        }


@blp.route("/<string:tracking_id>/replies")
class Replies(MethodView):
    @blp.arguments(ReplySchema)
    @blp.response(201, ReplyResultSchema)
    def post(self, data: dict[str, Any], tracking_id: str) -> Any:
        """The pelapor supplies info on tunda, rates the follow-up, or comments."""
        secret = data.pop("secret")
        return reports.reply(db.session(), tracking_id=tracking_id, secret=secret, data=data)
