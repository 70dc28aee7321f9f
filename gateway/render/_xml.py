"""How every renderer writes its tree out: the document's bytes."""

from __future__ import annotations

from lxml import etree


def serialise(root: etree._Element) -> bytes:
    """A rendered tree as the document's bytes (UTF-8, with an XML declaration)."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
