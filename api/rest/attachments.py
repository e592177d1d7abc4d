"""A report's attachments: the pelapor uploads and lists them with the secret; staff who see the
report's tasks list and download them with their token. Downloads are always served as
attachments with a sniffed type, `nosniff` and a sandboxing Content-Security-Policy."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView
from werkzeug.datastructures import CombinedMultiDict

from api.db import db
from api.rest.auth import current_principal, has_staff_credentials
from api.rest.blueprint import Blueprint, SafeJsonParser
from api.schemas.attachments import AttachmentQuerySchema, AttachmentSchema, AttachmentUploadSchema
from engine.services import attachments
from engine.services.auth import Principal

SECURITY = [{}, {"bearer": []}]
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class MultipartParser(SafeJsonParser):
    """The `files` location also carries the form's text parts, so one schema documents and
    validates a whole multipart body (file and secret together)."""

    def load_files(self, req: Any, schema: Any) -> Any:
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class UploadBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


blp = UploadBlueprint(
    "attachments",
    __name__,
    url_prefix="/api/v1",
    description="A report's attachments (pelapor's secret, or staff bearer token)",
)


def store() -> attachments.Store:
    return attachments.Store(current_app.config["LAPOR"].ATTACHMENT_DIR)


def who(secret: str | None) -> Principal | attachments.Pelapor:
    """Staff by their token or session cookie; anyone else is a pelapor with (maybe) a secret."""
    if has_staff_credentials():
        return current_principal()
    return attachments.Pelapor(secret)


def listed(view: attachments.AttachmentView) -> dict[str, Any]:
    row = view.attachment
    return {
        "id": row.id,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "created_at": row.created_at,
        "original_name": view.original_name,
        "url": url_for("attachments.AttachmentById", attachment_id=row.id),
    }


@blp.route("/reports/<string:tracking_id>/attachments")
class ReportAttachments(MethodView):
    @blp.arguments(AttachmentUploadSchema, location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, data: dict[str, Any], tracking_id: str) -> dict[str, Any]:
        """The pelapor attaches a file: within 24 hours of filing, or while the report waits
        for them (tunda); at most 5 per report. 413 too big, 415 not an accepted type,
        409 too many or too late."""
        upload = data["file"]
        prepared = attachments.prepare(
            upload.stream.read(attachments.MAX_BYTES + 1), filename=upload.filename
        )
        (row,) = attachments.add(
            db.session(),
            store=store(),
            tracking_id=tracking_id,
            secret=data["secret"],
            files=[prepared],
        )
        return listed(attachments.AttachmentView(row, row.original_name))

    @blp.doc(security=SECURITY)
    @blp.arguments(AttachmentQuerySchema, location="query")
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, query: dict[str, Any], tracking_id: str) -> list[dict[str, Any]]:
        """The report's attachments, for its pelapor (secret) or staff who see its tasks."""
        views = attachments.list_for(
            db.session(), who=who(query["secret"]), tracking_id=tracking_id
        )
        return [listed(v) for v in views]


@blp.route("/attachments/<int:attachment_id>")
class AttachmentById(MethodView):
    @blp.doc(
        security=SECURITY,
        responses={
            "200": {
                "description": "the file, always as a download",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in attachments.EXTENSIONS
                },
            }
        },
    )
    @blp.arguments(AttachmentQuerySchema, location="query")
    def get(self, query: dict[str, Any], attachment_id: int) -> Response:
        """Download one attachment (pelapor's secret, or staff who see the report's tasks)."""
        opened = attachments.open_for(
            db.session(), who=who(query["secret"]), attachment_id=attachment_id, store=store()
        )
        row = opened.view.attachment
        name = f"lampiran-{row.id}.{attachments.EXTENSIONS[row.content_type]}"
        response = Response(opened.content, mimetype=row.content_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers.update(SAFE_HEADERS)
        return response
