"""Parse untrusted XML safely: no DTD, no entities, no network, bounded size."""

from __future__ import annotations

from lxml import etree

MAX_BPMN_BYTES = 5 * 1024 * 1024


class UnsafeXml(ValueError):
    pass


def parse_untrusted_xml(data: bytes | str) -> etree._ElementTree:
    """Parse XML refusing DOCTYPE declarations, entity expansion and network access."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BPMN_BYTES:
        raise UnsafeXml(f"file is larger than {MAX_BPMN_BYTES // (1024 * 1024)} MB")
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise UnsafeXml("DOCTYPE and ENTITY declarations are not allowed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise UnsafeXml("DOCTYPE declarations are not allowed")
    return tree
