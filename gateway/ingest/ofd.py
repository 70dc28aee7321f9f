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
from gateway.ingest.ofd_tags import read_custom_tags, same_value
from gateway.ingest.textenc import readable_xml
from gateway.ingest.types import IngestLimits, ParsedInvoice, ParseWarning
from gateway.model.invoice import Invoice
from gateway.xmlsafe import parse_xml


def _attachment_kind(
    data: bytes, name: str, limits: IngestLimits
) -> tuple[etree._Element, bytes, list[ParseWarning]]:
    """The attachment's tree, the bytes it was read from (a ``GB2312``-labelled GBK one in
    UTF-8, see :func:`~gateway.ingest.textenc.readable_xml`) and the warning saying so."""
    what = f"OFD attachment {name}"
    readable, note = readable_xml(data, what, limits.xml.max_bytes)
    warnings = [ParseWarning("xml.encoding-superset", note, name)] if note else []
    return parse_xml(readable, limits=limits.xml, what=what), readable, warnings


def check_against_customdatas(
    invoice: Invoice, datas: dict[str, str], warnings: list[ParseWarning]
) -> None:
    """Warn where ``OFD.xml`` CustomDatas disagree with the invoice read from the embedded XML."""
    seller, buyer = invoice.seller.legal_registration, invoice.buyer.legal_registration
    printed = {
        "发票号码": invoice.number,
        "合计金额": str(invoice.totals.tax_exclusive),
        "合计税额": str(invoice.totals.tax),
        "价税合计": str(invoice.totals.tax_inclusive),
        "开票日期": invoice.issue_date.isoformat(),
        "销售方纳税人识别号": seller.value if seller else "",
        "购买方纳税人识别号": buyer.value if buyer else "",
    }
    code = datas.get("发票代码", "")
    for label, value in printed.items():
        data = datas.get(label)
        if data is None:
            continue
        key = "issued" if label == "开票日期" else label
        if label == "发票号码" and code and invoice.number == code + data:
            continue
        if not same_value(key, value, data):
            warnings.append(
                ParseWarning(
                    "ofd.customdata-mismatch",
                    f"embedded XML says {value!r}, OFD.xml CustomData {label} says {data!r}",
                    f"OFD.xml:CustomData[{label}]",
                )
            )


def detect_ofd(data: bytes, limits: IngestLimits) -> str:
    """``fapiao-ofd-legacy`` when a legacy invoice XML is embedded, else ``fapiao-ofd``."""
    package = OfdPackage(data, limits)
    found = package.attachment_xml()
    if found and local(_attachment_kind(found[1], found[0], limits)[0]) == LEGACY_ROOT:
        return "fapiao-ofd-legacy"
    return "fapiao-ofd"


def parse_ofd(data: bytes, limits: IngestLimits) -> ParsedInvoice:
    """Parse an OFD fapiao of either kind."""
    package = OfdPackage(data, limits)
    found = package.attachment_xml()
    if found is not None:
        name, received = found
        root, xml_bytes, encoding_warnings = _attachment_kind(received, name, limits)
        if local(root) == LEGACY_ROOT:
            warnings: list[ParseWarning] = list(encoding_warnings)
            raw = read_legacy(root, name)
            invoice, facts = build(raw, warnings, limits.max_lines)
            check_against_customdatas(invoice, package.custom_datas(), warnings)
            return ParsedInvoice(invoice, "fapiao-ofd-legacy", data, xml_bytes, facts, warnings)
        if local(root) == "EInvoice":
            parsed, _ = parse_einvoice_root(root, limits, list(encoding_warnings))
            check_against_customdatas(parsed.invoice, package.custom_datas(), parsed.warnings)
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
