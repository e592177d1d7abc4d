"""Process designers' API: validate and deploy BPMN SOPs, list versions, read their XML, roll
back. The body of a deploy or validate is the BPMN file itself (`application/xml`) or a
multipart form with a `file` part; who may do what is decided by `engine.services.designer`."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.definitions import (
    DefinitionSchema,
    DeployedSchema,
    TargetQuerySchema,
    ValidationSchema,
)
from engine.errors import InvalidInput, TooLarge, UnsupportedType
from engine.runtime.safe_xml import MAX_BPMN_BYTES
from engine.services import designer

blp = Blueprint(
    "definitions",
    __name__,
    url_prefix="/api/v1/process-definitions",
    description="BPMN process definitions: validate, deploy, versions, roll back (designers)",
)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
XML_TYPES = frozenset(
    {"application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream"}
)
BPMN_BODY = {
    "required": True,
    "content": {
        "application/xml": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


def uploaded_bpmn() -> tuple[bytes, str]:
    """The BPMN bytes and file name of this request, refusing other types and oversize files."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("a multipart body needs a `file` part", field="file")
        data = upload.stream.read(MAX_BPMN_BYTES + 1)
        name = upload.filename or "upload.bpmn"
    elif mimetype in XML_TYPES:
        data, name = request.get_data(cache=False), "upload.bpmn"
    else:
        raise UnsupportedType(
            "send the BPMN file as application/xml or as a multipart `file` part",
            field="Content-Type",
        )
    if len(data) > MAX_BPMN_BYTES:
        raise TooLarge(
            f"the BPMN file is larger than {MAX_BPMN_BYTES // (1024 * 1024)} MB", field="bpmn"
        )
    if not data.strip():
        raise InvalidInput("the BPMN file is empty", field="bpmn")
    return data, name[:200]


@blp.route("")
class Definitions(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DefinitionSchema(many=True))
    def get(self) -> Any:
        """Definitions the caller may read (designers: national and their instansi's), with
        every version, how many instances run on it, and which is current."""
        return designer.list_definitions(db.session(), principal=current_principal())

    @blp.doc(security=SECURITY, requestBody=BPMN_BODY)
    @blp.arguments(TargetQuerySchema, location="query")
    @blp.response(201, DeployedSchema)
    @blp.alt_response(200, schema=DeployedSchema, description="identical XML: no new version")
    def post(self, query: dict[str, Any]) -> Any:
        """Validate and deploy a new version of an SOP (process designers). A file identical to
        a deployed version creates no new version; it makes that version current again."""
        xml, name = uploaded_bpmn()
        deployment, instansi = designer.deploy(
            db.session(),
            principal=current_principal(),
            xml=xml,
            instansi_code=query["instansi"],
            filename=name,
        )
        definition = deployment.definition
        body = {
            "key": definition.key,
            "version": definition.version,
            "kind": definition.kind,
            "instansi": instansi.code if instansi else None,
            "created": deployment.created,
            "current": True,
            "warnings": [w.as_dict() for w in deployment.warnings],
        }
        return body, 201 if deployment.created else 200


@blp.route("/validate")
class Validate(MethodView):
    @blp.doc(security=SECURITY, requestBody=BPMN_BODY)
    @blp.response(200, ValidationSchema)
    def post(self) -> Any:
        """Lint a BPMN file without deploying it: every error and warning, with element ids and
        lines (process designers)."""
        principal = current_principal()
        xml, _name = uploaded_bpmn()
        report = designer.validate(principal, xml)
        return {
            "valid": report.ok,
            "errors": [f.as_dict() for f in report.errors],
            "warnings": [f.as_dict() for f in report.warnings],
        }


@blp.route("/<string:key>")
class Definition(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DefinitionSchema)
    def get(self, key: str) -> Any:
        """One definition with its versions."""
        return designer.get_definition(db.session(), principal=current_principal(), key=key)


@blp.route("/<string:key>/versions/<int:version>/xml")
class VersionXml(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, description="the BPMN XML", content_type="application/xml")
    def get(self, key: str, version: int) -> Response:
        """The BPMN XML of one version."""
        xml = designer.version_xml(
            db.session(),
            principal=current_principal(),
            key=key,
            version=version,
        )
        return Response(xml, mimetype="application/xml")


@blp.route("/<string:key>/versions/<int:version>/rollback")
class Rollback(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DefinitionSchema)
    def post(self, key: str, version: int) -> Any:
        """Make an earlier version current again: new reports start on it, running reports
        keep the version they started on."""
        return designer.rollback(
            db.session(),
            principal=current_principal(),
            key=key,
            version=version,
        )
