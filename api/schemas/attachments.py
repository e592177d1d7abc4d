"""Schemas for a report's attachments: upload (multipart), list, download."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from api.schemas.fields import Text, pelapor_secret
from engine.services import attachments


class FileUpload(Upload):
    """A file part of a multipart body (a plain text part of the same name is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ValidationError("Not a file.")
        return value


class AttachmentUploadSchema(Schema):
    file = FileUpload(
        required=True,
        metadata={
            "description": "PNG, JPEG or WebP image or PDF, at most "
            f"{attachments.MAX_BYTES // (1024 * 1024)} MB; the type is read from the bytes. "
            "Images are re-encoded without their metadata (EXIF, GPS, XMP, ICC)."
        },
    )
    secret = pelapor_secret()


class AttachmentQuerySchema(Schema):
    secret = Text(
        load_default=None,
        validate=validate.Length(max=128),
        metadata={"description": "the pelapor's secret (staff use their bearer token instead)"},
    )


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    content_type = fields.String(required=True, metadata={"description": "sniffed from bytes"})
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    original_name = fields.String(
        allow_none=True,
        metadata={"description": "sanitised client file name; null for staff on anonim reports"},
    )
    url = fields.String(required=True, metadata={"description": "where to download it"})
