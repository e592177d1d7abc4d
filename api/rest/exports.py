"""Report exports (CSV, XLSX) as background jobs: ask for one, follow its progress, download it.

Staff who handle or supervise reports (and API keys with `reports:read`) ask; the scheduler
runs the job; only the requester sees it (anyone else: 404). The file is always served as a
download, with `nosniff` and a sandboxing Content-Security-Policy, until the retention period
(`LAPOR_RETENTION_EXPORT_HOURS`) ends (then 410).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from flask import Response, current_app, send_file, url_for
from flask.views import MethodView

from api.db import db
from api.rest.attachments import SAFE_HEADERS
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.exports import ExportCreateSchema, ExportSchema
from engine.models.exports import DONE
from engine.services import exports

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="Report exports as CSV or XLSX (background jobs, staff and API keys)",
)
SECURITY = [{"bearer": []}]


def retention() -> timedelta:
    return timedelta(hours=current_app.config["LAPOR"].RETENTION_EXPORT_HOURS)


def shown(view: exports.ExportView) -> dict[str, Any]:
    body = asdict(view)
    body["url"] = url_for("exports.ExportById", export_id=view.id)
    body["download_url"] = (
        url_for("exports.ExportFile", export_id=view.id) if view.state == DONE else None
    )
    return body


@blp.route("")
class Exports(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(ExportCreateSchema)
    @blp.response(
        202,
        ExportSchema,
        headers={"Location": {"description": "the job", "schema": {"type": "string"}}},
    )
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Ask for an export of the reports you may read: filters by the instansi handling
        them (with `subtree`, also those below it), filing day and status. It runs in the
        background; follow `url` until `state` is done, then download `download_url`.

        An anonim pelapor's identity is never exported; contact data only to the handling
        instansi's staff and national admins; a rahasia report's text only to them (README,
        "Exports"). 202 with the job; 403 outside your scope, 409 with three exports already
        waiting.
        """
        view = exports.create(
            db.session(),
            principal=current_principal(),
            filters={
                "instansi": body["instansi"],
                "subtree": body["subtree"],
                "from": body["from_"],
                "to": body["to"],
                "status": body["status"],
            },
            fmt=body["format"],
            retention=retention(),
        )
        answer = shown(view)
        return answer, 202, {"Location": answer["url"]}


@blp.route("/<int:export_id>")
class ExportById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, ExportSchema)
    def get(self, export_id: int) -> dict[str, Any]:
        """The export's state and progress (`rows_done` of `rows_total`, `percent`); its
        `download_url` once done. Someone else's export is 404."""
        view = exports.get(
            db.session(), principal=current_principal(), export_id=export_id, retention=retention()
        )
        return shown(view)


@blp.route("/<int:export_id>/file")
class ExportFile(MethodView):
    @blp.doc(
        security=SECURITY,
        responses={
            "200": {
                "description": "the file, always as a download",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("text/csv", exports.MIMETYPES["xlsx"])
                },
            }
        },
    )
    def get(self, export_id: int) -> Response:
        """Download the finished export (409 while it runs, 410 after its retention)."""
        found = exports.open_file(
            db.session(),
            principal=current_principal(),
            export_id=export_id,
            directory=current_app.config["LAPOR"].EXPORT_DIR,
            retention=retention(),
        )
        response = send_file(
            found.path,
            mimetype=found.mimetype,
            as_attachment=True,
            download_name=found.download_name,
            conditional=False,
            etag=False,
            max_age=0,
        )
        response.headers.update(SAFE_HEADERS)
        return response
