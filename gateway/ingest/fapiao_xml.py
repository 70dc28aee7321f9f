"""The 数电票 XML format: hardened parse, schema findings, field location, build."""

from __future__ import annotations

from lxml import etree

from gateway.errors import FieldError, UnknownFormatError
from gateway.ingest.build import build
from gateway.ingest.einvoice_xml import ROOT, read_einvoice, strip_namespaces
from gateway.ingest.textenc import readable_xml
from gateway.ingest.types import IngestLimits, ParsedInvoice, ParseWarning
from gateway.ingest.xsd import explain, schema_findings
from gateway.xmlsafe import parse_xml


def parse_einvoice_root(
    root: etree._Element, limits: IngestLimits, warnings: list[ParseWarning]
) -> tuple[ParsedInvoice, list[ParseWarning]]:
    """Build from an already parsed ``EInvoice`` tree (also used for XML found inside an OFD).

    Returns a ParsedInvoice with placeholder bytes; the caller fills ``original`` / format.
    """
    if etree.QName(root).localname != ROOT:
        raise UnknownFormatError(
            f"root element is <{etree.QName(root).localname}>, not <{ROOT}>", rule="fapiao.root"
        )
    if etree.QName(root).namespace:
        warnings.append(
            ParseWarning("xml.namespace", f"EInvoice in namespace {etree.QName(root).namespace}")
        )
        strip_namespaces(root)
    findings = schema_findings(root)
    try:
        raw = read_einvoice(root)
        invoice, facts = build(raw, warnings, limits.max_lines)
    except FieldError as exc:
        raise FieldError(
            exc.message + explain(findings, exc.field), field=exc.field, rule=exc.rule
        ) from exc
    eiid = facts.extra.get("eiid")
    if eiid and eiid != invoice.number:
        warnings.append(
            ParseWarning(
                "fapiao.eiid-mismatch",
                f"Header/EIid {eiid} differs from the invoice number {invoice.number}",
                "Header/EIid",
            )
        )
    warnings.extend(findings)
    parsed = ParsedInvoice(invoice, "fapiao-xml", b"", None, facts, warnings)
    return parsed, findings


def parse_fapiao_xml(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse a 数电票 XML file."""
    readable, note = readable_xml(data, "fapiao XML", limits.xml.max_bytes)
    root = parse_xml(readable, limits=limits.xml, what="fapiao XML")
    warnings = [ParseWarning("xml.encoding-superset", note)] if note else []
    parsed, _ = parse_einvoice_root(root, limits, warnings)
    parsed.original = data
    parsed.original_xml = readable
    return parsed
