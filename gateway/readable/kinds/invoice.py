"""Invoices: a fapiao, or a UBL / CII invoice, in the profile's terms beside the original.

The invoice shown is the one in the profile's terms when the gateway made one (output
``signed``, else ``rendered``: read back with :func:`gateway.read.read_invoice`), else the
source itself (a UBL / CII document, or the fapiao as parsed). When the source is a fapiao,
its key facts (kind, red letter, special tax method, drawer, tax bureau, remark) and the
reader's warnings are shown under "original".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import LingangError, UnknownFormatError
from gateway.ingest import ParsedInvoice, detect, parse
from gateway.ingest.textenc import head_text
from gateway.model import Invoice
from gateway.read import read_invoice
from gateway.readable.registry import RenderSource
from gateway.readable.report import readable_report
from gateway.readable.templating import render_template
from gateway.xmlsafe import parse_xml

PROFILE_OUTPUTS = ("signed", "rendered")
"""Outputs holding the invoice in the profile's terms, preferred first."""
INVOICE_ROOTS = ("Invoice", "CreditNote", "CrossIndustryInvoice")
FAPIAO_KINDS = {"01": "增值税专用发票 / special VAT", "02": "普通发票 / ordinary"}
SHOWN_FACTS = ("profile", "receiver", "sender", "state")


@dataclass(frozen=True, slots=True)
class InvoiceRenderer:
    """Renders invoices (document kind ``invoice``)."""

    kind: str = "invoice"

    def accepts(self, source: RenderSource) -> bool:
        return _fapiao_format(source.data) is not None or _is_invoice_xml(source.data)

    def render(self, source: RenderSource) -> str:
        parsed, original_error = _original(source)
        invoice = _profile_invoice(source, parsed)
        facts = [(key, str(source.facts[key])) for key in SHOWN_FACTS if source.facts.get(key)]
        if source.document_id:
            facts.insert(0, ("document_id", source.document_id))
        return render_template(
            "invoice.html",
            title=f"{invoice.number} · {invoice.seller.name}",
            invoice=invoice,
            credit=invoice.is_credit_note,
            profile=invoice.profile or "",
            facts=[f for f in facts if f[0] != "profile" or not invoice.profile],
            original=_original_facts(parsed) if parsed else [],
            original_error=original_error,
            warnings=parsed.warnings if parsed else [],
            report=readable_report(source.report),
        )


RENDERER = InvoiceRenderer()


def _fapiao_format(data: bytes) -> str | None:
    try:
        return detect(data)
    except LingangError:
        return None


def _is_invoice_xml(data: bytes) -> bool:
    if not head_text(data).startswith("<"):
        return False
    try:
        root = parse_xml(data, what="invoice")
    except LingangError:
        return False
    return str(root.tag).rpartition("}")[2] in INVOICE_ROOTS


def _original(source: RenderSource) -> tuple[ParsedInvoice | None, str]:
    """The source parsed as a fapiao, or ``(None, why not)`` (``""``: it is not one)."""
    source_format = _fapiao_format(source.data)
    if source_format is None:
        return None, ""
    try:
        return parse(source.data, source_format), ""
    except LingangError as exc:
        return None, exc.message


def _profile_invoice(source: RenderSource, parsed: ParsedInvoice | None) -> Invoice:
    for kind in PROFILE_OUTPUTS:
        data = source.outputs.get(kind)
        if data:
            invoice = read_invoice(data)
            if invoice.profile is None and source.facts.get("profile"):
                invoice.profile = str(source.facts["profile"])
            return invoice
    if parsed is not None:
        return parsed.invoice
    if _is_invoice_xml(source.data):
        return read_invoice(source.data)
    raise UnknownFormatError("neither a fapiao nor a UBL / CII invoice", field="document")


def _original_facts(parsed: ParsedInvoice) -> list[tuple[str, Any]]:
    facts = parsed.facts
    rows: list[tuple[str, Any]] = [
        ("number", parsed.invoice.number),
        ("issue_date", parsed.invoice.issue_date.isoformat()),
        ("source_format", parsed.source_format),
        ("seller", parsed.invoice.seller.name),
        ("buyer", parsed.invoice.buyer.name),
        ("tax_inclusive", f"{parsed.invoice.totals.tax_inclusive:,} {parsed.invoice.currency}"),
    ]
    if facts.kind:
        rows.append(("fapiao_kind", FAPIAO_KINDS.get(facts.kind, facts.kind)))
    rows.append(("red_letter", "是 / yes" if facts.is_red else "否 / no"))
    optional = [
        ("red_confirmation", facts.red_confirmation_no),
        ("special_tax", facts.special_tax_method),
        ("drawer", facts.drawer),
        ("tax_bureau", " ".join(x for x in (facts.tax_bureau_code, facts.tax_bureau_name) if x)),
        ("remark", facts.remark),
    ]
    rows += [(key, value) for key, value in optional if value]
    if facts.is_export_hint:
        rows.append(("export", "是 / yes"))
    return rows
