"""Open311 documents written as XML (lxml) or JSON, the format chosen by the resource's extension.

A document is a root name and a body: a list (`services`, `service_requests`, `errors`: one
child element per item, named by `ITEM_NAMES`) or a mapping (`service_definition`,
`discovery`). JSON is the same structure as the spec maps it (the Spark convention): the list or
the object itself, `true`/`false` and numbers as JSON values, empty fields as `null`. XML starts
with its declaration (UTF-8), has no namespace, writes booleans as `true`/`false` and empty
fields as empty elements. Characters XML 1.0 cannot carry (control characters) are dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, request
from lxml import etree

XML, JSON = "xml", "json"
CONTENT_TYPES = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}
MIME_TYPES = {XML: "text/xml", JSON: "application/json"}
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def split_name(name: str) -> tuple[str, str | None]:
    """`"ABCD234567.json"` -> (`"ABCD234567"`, `"json"`); no extension -> (name, None)."""
    stem, dot, extension = name.rpartition(".")
    return (stem, extension) if dot else (name, None)


def requested_format() -> str:
    """The format of this request's resource when it is one we write, else XML (the format
    the spec requires every server to offer), used for error answers too."""
    last = request.path.rstrip("/").rsplit("/", 1)[-1]
    extension = split_name(last)[1]
    return JSON if extension == JSON else XML


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: Any, name: str, value: Any) -> None:
    element = etree.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: Any, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _append(element, ITEM_NAMES[name], item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif value is not None:
        element.text = _xml_text(value)


def to_xml(root: str, body: list[Any] | dict[str, Any]) -> bytes:
    element = etree.Element(root)
    _fill(element, root, body)
    return DECLARATION + bytes(etree.tostring(element, xml_declaration=False, encoding="UTF-8"))


def to_json(body: list[Any] | dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def render(root: str, body: list[Any] | dict[str, Any], fmt: str, status: int = 200) -> Response:
    """The document as an HTTP answer in `fmt` (`xml` or `json`)."""
    data = to_json(body) if fmt == JSON else to_xml(root, body)
    return Response(data, status=status, content_type=CONTENT_TYPES[fmt])
