"""OFD fapiao (GB/T 33190, a zip): find where the invoice data sits and read it.

Three sources, most reliable first (FORMAT.md §9):

1. an XML attachment (``Doc_0/Attachs/original_invoice.xml``): the legacy VAT e-invoice XML
   (namespace ``…/e-invoice/2019``), or a 数电票 ``EInvoice`` XML where a producer embeds one;
2. custom tags (``Doc_0/Tags/CustomTag*.xml``) whose leaves point at text objects on the page;
3. ``OFD.xml`` ``DocInfo/CustomDatas`` name/value pairs (``合计金额`` is the NET total).
"""

from __future__ import annotations

from lxml import etree

from gateway.errors import InputError
from gateway.ingest.build import build
from gateway.ingest.fapiao_xml import parse_einvoice_root
from gateway.ingest.legacy_xml import LEGACY_ROOT, read_legacy
from gateway.ingest.ofd_package import OfdPackage, local
from gateway.ingest.ofd_tags import read_custom_tags
from gateway.ingest.textenc import check_xml_encoding
from gateway.ingest.types import IngestLimits, ParsedInvoice, ParseWarning
from gateway.xmlsafe import parse_xml


def _attachment_kind(data: bytes, name: str, limits: IngestLimits) -> etree._Element:
    check_xml_encoding(data, f"OFD attachment {name}")
    return parse_xml(data, limits=limits.xml, what=f"OFD attachment {name}")


def detect_ofd(data: bytes, limits: IngestLimits) -> str:
    """``fapiao-ofd-legacy`` when a legacy invoice XML is embedded, else ``fapiao-ofd``."""
    package = OfdPackage(data, limits)
    found = package.attachment_xml()
    if found and local(_attachment_kind(found[1], found[0], limits)) == LEGACY_ROOT:
        return "fapiao-ofd-legacy"
    return "fapiao-ofd"


def parse_ofd(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse an OFD fapiao of either kind."""
    package = OfdPackage(data, limits)
    found = package.attachment_xml()
    if found is not None:
        name, xml_bytes = found
        root = _attachment_kind(xml_bytes, name, limits)
        if local(root) == LEGACY_ROOT:
            warnings: list[ParseWarning] = []
            raw = read_legacy(root, name)
            invoice, facts = build(raw, warnings, limits.max_lines)
            return ParsedInvoice(invoice, "fapiao-ofd-legacy", data, xml_bytes, facts, warnings)
        if local(root) == "EInvoice":
            parsed, _ = parse_einvoice_root(root, limits, [])
            parsed.source_format = "fapiao-ofd"
            parsed.original, parsed.original_xml = data, xml_bytes
            return parsed
        raise InputError(
            f"OFD attachment {name} has root <{local(root)}>, not a fapiao XML",
            field=name,
            rule="ofd.attachment-root",
        )
    warnings = []
    raw = read_custom_tags(package, warnings)
    invoice, facts = build(raw, warnings, limits.max_lines)
    return ParsedInvoice(invoice, "fapiao-ofd", data, None, facts, warnings)
