"""The Open311 GeoReport v2 routes (module docstring of `api.open311`).

| route | answers |
| --- | --- |
| `GET /open311/discovery.{xml,json}` | the service discovery document |
| `GET /open311/v2/services.{fmt}` | every service (classification and category) |
| `GET /open311/v2/services/{code}.{fmt}` | a service definition: its optional attributes |
| `GET /open311/v2/requests.{fmt}` | published reports, filtered as the spec allows |
| `POST /open311/v2/requests.{fmt}` | file a report (an API key with `reports:write`) |
| `GET /open311/v2/requests/{id}.{fmt}` | one report, as its public status page shows it |
| `GET /open311/v2/tokens/{token}.{fmt}` | the service_request_id a POST's token stands for |

Any other path under `/open311`, or a resource without `.xml`/`.json`, answers an Open311
error. The GET answers are public data and carry `Access-Control-Allow-Origin: *`, so that
browser apps can read them; nothing here reads the staff session cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from marshmallow import Schema, ValidationError

from api.db import db
from api.open311 import catalog, errors, filing, formats, jurisdictions, reading, schemas, tokens
from api.open311.errors import Open311Error
from api.rest.auth import API_KEY_HEADER, key_permission
from engine.errors import DomainError
from engine.services import api_keys
from engine.services.auth import Principal

blp = Blueprint("open311", __name__, url_prefix="/open311")
errors.register(blp)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23 00:00"  # when the services or their definitions last changed
RESOURCES = ("discovery", "v2/services", "v2/requests")  # known, asked without a format


@blp.after_request
def readable_by_browser_apps(response: Response) -> Response:
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def checked(fmt: str | None) -> str:
    if fmt in formats.CONTENT_TYPES:
        return fmt
    given = f"'.{fmt}' is not offered" if fmt else "missing"
    raise Open311Error(400, f"format: {given}; end the resource with .xml or .json")


def load(schema: Schema, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        named = {f"{prefix}[{k}]" if prefix else k: v for k, v in messages.items()}
        raise Open311Error(400, *errors.descriptions_of(named)) from exc
    return loaded


def known_jurisdiction(code: str | None) -> None:
    """An unknown `jurisdiction_id` is 404 even where it filters nothing."""
    if code:
        jurisdictions.check(db.session(), code)


@blp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    endpoint = {
        "specification": SPECIFICATION,
        "url": f"{request.url_root}open311/v2",
        "changeset": CHANGESET,
        "type": "production",
        "formats": list(formats.MIME_TYPES.values()),
    }
    body = {
        "changeset": CHANGESET,
        "contact": "Admin nasional SP4N-LAPOR! (KemenPANRB)",
        "key_service": "Admin instansi membuat API key (izin reports:write) lewat "
        "POST /api/v1/api-keys; kirimkan sebagai api_key.",
        "endpoints": [endpoint],
    }
    return formats.render("discovery", body, checked(fmt))


@blp.get("/v2/services.<fmt>")
def services(fmt: str) -> Response:
    fmt = checked(fmt)
    query = load(schemas.JurisdictionQuerySchema(), schemas.flat(request.args))
    known_jurisdiction(query["jurisdiction_id"])
    return formats.render("services", [s.as_open311() for s in catalog.services()], fmt)


@blp.get("/v2/services/<name>")
def service_definition(name: str) -> Response:
    code, extension = formats.split_name(name)
    fmt = checked(extension)
    query = load(schemas.JurisdictionQuerySchema(), schemas.flat(request.args))
    known_jurisdiction(query["jurisdiction_id"])
    service = catalog.find(code)
    if service is None:
        raise Open311Error(404, f"service_code: no service '{code[:100]}'")
    return formats.render("service_definition", catalog.definition(service), fmt)


def key_principal() -> Principal:
    """The API key of this POST: `api_key` (form or query), else `X-API-Key`, else a bearer
    API key; anything missing, unknown, revoked or without `reports:write` is a 403."""
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    bearer = bearer.strip() if scheme.lower() == "bearer" else ""
    key = (
        request.form.get("api_key")
        or request.args.get("api_key")
        or request.headers.get(API_KEY_HEADER)
        or (bearer if api_keys.is_api_key(bearer) else "")
    ).strip()
    if not key:
        raise Open311Error(
            403, "api_key: missing; creating a service request needs an API key (reports:write)"
        )
    try:
        return api_keys.authenticate(db.session(), key=key, permission=key_permission())
    except DomainError as exc:
        raise Open311Error(403, f"api_key: {exc.message}") from exc


def create_request(fmt: str) -> Response:
    principal = key_principal()
    given = {**schemas.flat(request.args), **schemas.flat(request.form)}
    plain, attributes = schemas.split_attributes(given)
    found: list[str] = []
    loaded: list[dict[str, Any]] = []
    for schema, data, prefix in (
        (schemas.CreateRequestSchema(), plain, ""),
        (schemas.AttributesSchema(), attributes, "attribute"),
    ):
        try:
            loaded.append(load(schema, data, prefix))
        except Open311Error as exc:
            found += exc.descriptions
    if found:
        raise Open311Error(400, *found)
    filed = filing.file(db.session(), principal=principal, fields=loaded[0], attributes=loaded[1])
    notice = "Laporan diterima dan menunggu verifikasi admin nasional"
    due = reading.w3(filed.due_at, filed.zone)
    body = [
        {
            "service_request_id": filed.tracking_id,
            "token": tokens.issue(filed.tracking_id),
            "service_notice": f"{notice}, paling lambat {due}." if due else f"{notice}.",
        }
    ]
    return formats.render("service_requests", body, fmt)


@blp.route("/v2/requests.<fmt>", methods=["GET", "POST"])
def requests_collection(fmt: str) -> Response:
    fmt = checked(fmt)
    if request.method == "POST":
        return create_request(fmt)
    query = load(schemas.RequestListQuerySchema(), schemas.flat(request.args))
    session = db.session()
    if query["service_request_id"]:  # overrides every other parameter
        known_jurisdiction(query["jurisdiction_id"])
        found = reading.requests_by_id(session, tracking_ids=query["service_request_id"])
    else:
        found = reading.list_requests(
            session,
            query=reading.RequestQuery(
                jurisdiction_id=query["jurisdiction_id"],
                service_codes=query["service_code"],
                start=query["start_date"],
                end=query["end_date"],
                statuses=query["status"],
                page=query["page"],
                page_size=query["page_size"],
            ),
        )
    return formats.render("service_requests", found, fmt)


@blp.get("/v2/requests/<name>")
def service_request(name: str) -> Response:
    tracking_id, extension = formats.split_name(name)
    fmt = checked(extension)
    query = load(schemas.JurisdictionQuerySchema(), schemas.flat(request.args))
    known_jurisdiction(query["jurisdiction_id"])
    found = reading.request_by_id(db.session(), tracking_id=tracking_id)
    return formats.render("service_requests", [found], fmt)


@blp.get("/v2/tokens/<name>")
def token(name: str) -> Response:
    token_id, extension = formats.split_name(name)
    fmt = checked(extension)
    query = load(schemas.JurisdictionQuerySchema(), schemas.flat(request.args))
    known_jurisdiction(query["jurisdiction_id"])
    tracking_id = tokens.tracking_id_of(token_id)
    if tracking_id is None or not reading.exists(db.session(), tracking_id=tracking_id):
        raise Open311Error(404, f"token: no token '{token_id[:64]}'")
    return formats.render(
        "service_requests", [{"service_request_id": tracking_id, "token": token_id}], fmt
    )


@blp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str) -> Response:
    """A resource without its format is a 400 saying so; anything else is a 404."""
    if rest.rstrip("/") in RESOURCES:
        checked(None)
    raise Open311Error(404, f"no Open311 resource '/open311/{rest[:100]}'")
