"""The GeoReport v2 specification as a client reads it: field lists, allowed values, and parsers
for both formats written from the spec (wiki.open311.org/GeoReport_v2), not from our server.

`parse` turns an answer into the structure the JSON format has (a list, or an object), reading
XML with the standard library as an XML::Simple-style client would: every element of a list
document becomes one item, `true`/`false` stay text in XML (the checks accept both forms).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
DEFINITION_FIELDS = ("service_code", "attributes")
ATTRIBUTE_FIELDS = (
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
)
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
CREATED_FIELDS = {"service_request_id", "token", "service_notice", "account_id"}
TOKEN_FIELDS = ("service_request_id", "token")
ERROR_FIELDS = ("code", "description")
DISCOVERY_FIELDS = ("changeset", "contact", "key_service", "endpoints")
ENDPOINT_FIELDS = ("specification", "url", "changeset", "type", "formats")
CONTENT_TYPES = {"xml": "text/xml", "json": "application/json"}
LISTS = {  # element -> the name of its items, for the documents and fields that are lists
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
W3 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def xml_root(data: bytes) -> ET.Element:
    """The root element of an answer of the server under test (the standard library's parser,
    as a plain client would use; the answers are our own, not untrusted input)."""
    return ET.fromstring(data)  # noqa: S314


def _value(element: ET.Element) -> Any:
    if element.tag in LISTS:
        return [_value(child) for child in element if child.tag == LISTS[element.tag]]
    if len(element):
        return {child.tag: _value(child) for child in element}
    return element.text


def parse(response: Any, fmt: str) -> Any:
    """The answer's document (list or object); asserts the content type and the encoding."""
    assert response.mimetype == CONTENT_TYPES[fmt], response.headers
    assert response.mimetype_params.get("charset", "").lower() == "utf-8", response.headers
    data = response.get_data()
    if fmt == "json":
        return response.get_json()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), data[:60]
    root = xml_root(data)
    return _value(root) if root.tag in LISTS else {c.tag: _value(c) for c in root}


def flag(value: Any) -> bool:
    """A spec boolean: JSON true/false, XML text "true"/"false"."""
    assert value in (True, False, "true", "false"), value
    return value in (True, "true")


def check_w3(value: Any) -> None:
    assert isinstance(value, str) and W3.match(value), value
    datetime.fromisoformat(value)


def check_services(items: Any) -> None:
    assert isinstance(items, list) and items
    for item in items:
        assert tuple(item) == SERVICE_FIELDS, item
        assert item["type"] in ("realtime", "batch", "blackbox")
        flag(item["metadata"])
        assert item["service_code"] and item["service_name"]


def check_definition(document: Any, code: str) -> None:
    assert tuple(document) == DEFINITION_FIELDS, document
    assert document["service_code"] == code
    orders = []
    for attribute in document["attributes"]:
        assert tuple(attribute)[: len(ATTRIBUTE_FIELDS)] == ATTRIBUTE_FIELDS, attribute
        assert attribute["datatype"] in DATATYPES
        flag(attribute["variable"])
        flag(attribute["required"])
        orders.append(int(attribute["order"]))
        if attribute["datatype"].endswith("valuelist"):
            assert attribute["values"], attribute
            for value in attribute["values"]:
                assert tuple(value) == ("key", "name"), value
    assert sorted(orders) == list(range(1, len(orders) + 1))


def check_requests(items: Any) -> None:
    assert isinstance(items, list)
    for item in items:
        assert tuple(item) == REQUEST_FIELDS, item
        assert item["status"] in ("open", "closed")
        check_w3(item["requested_datetime"])
        check_w3(item["updated_datetime"])
        if item["expected_datetime"]:
            check_w3(item["expected_datetime"])


def check_errors(items: Any, status: int) -> list[str]:
    """The descriptions of an error answer, each with the spec's fields."""
    assert isinstance(items, list) and items
    for item in items:
        assert tuple(item) == ERROR_FIELDS, item
        assert int(item["code"]) == status
        assert item["description"]
    return [str(item["description"]) for item in items]
