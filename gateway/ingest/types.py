"""What a fapiao parser returns, and the limits it works within."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from gateway.model.invoice import Invoice
from gateway.xmlsafe import XmlLimits


@dataclass(slots=True)
class ParseWarning:
    """Something odd in the source that did not stop parsing (e.g. ``uscc.check-digit``)."""

    code: str
    """Stable machine-readable rule name, e.g. ``uscc.check-digit``, ``sta.line-tax-tolerance``."""
    message: str
    """What was found, for a person."""
    field: str | None = None
    """Source path of the field concerned (e.g. ``EInvoiceData/SellerInformation/SellerIdNum``)."""


class Warn:
    """Appends :class:`ParseWarning` s to a list; one call names the rule, message and field."""

    def __init__(self, sink: list[ParseWarning]) -> None:
        self.sink = sink

    def __call__(self, code: str, message: str, field: str | None = None) -> None:
        self.sink.append(ParseWarning(code, message, field))


@dataclass(slots=True)
class FapiaoFacts:
    """Fapiao-side facts that are not EN 16931 business terms."""

    kind: str | None = None
    """GeneralOrSpecialVAT code: ``01`` 专票, ``02`` 普票 … (legacy: ``10`` / ``08`` …)."""
    taxpayer_type: str | None = None
    """TaxpayerType code ``1`` … ``5``."""
    is_red: bool = False
    """A red-letter (credit) fapiao."""
    red_confirmation_no: str | None = None
    """红字发票信息确认单编号 (RedEInvoice/CreditNoteNumber)."""
    special_tax_method: str | None = None
    """特定征税方式 label code ``01`` … ``06`` when present."""
    industry_labels: list[str] = field(default_factory=list)
    """企业行业性质类 label codes, e.g. ``["01", "20"]``."""
    is_export_hint: bool = False
    """Zero-rate / export labels, a foreign-looking buyer, an export policy code …"""
    drawer: str | None = None
    """开票人."""
    tax_bureau_code: str | None = None
    tax_bureau_name: str | None = None
    version: str | None = None
    """Header/Version of a 数电票 XML."""
    region_tag: str | None = None
    """Header/EInvoiceTag, e.g. ``SWEI4400``."""
    differential: tuple[Decimal, Decimal] | None = None
    """差额征税 (Deduction, SalesIncludingTax)."""
    remark: str | None = None
    """备注 as printed."""
    special: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """特定业务 blocks (ConstructionServices, RealEstateLease, PassengerTransportation …):
    (block name, {field: text as printed}); nested fields are left out."""
    extra: dict[str, str] = field(default_factory=dict)
    """Anything else worth keeping (ptbh, check code, machine number, buyer bank …)."""


@dataclass(slots=True)
class ParsedInvoice:
    """One parsed fapiao: the canonical invoice, the source bytes and the fapiao-side facts."""

    invoice: Invoice
    """Faithful to the source: amounts as printed (negative on red-letter fapiao)."""
    source_format: str
    """``fapiao-xml`` | ``fapiao-ofd`` | ``fapiao-ofd-legacy`` | ``fapiao-json``."""
    original: bytes
    """The input bytes as received."""
    original_xml: bytes | None
    """The primary XML (the fapiao XML itself, or a legacy OFD's ``original_invoice.xml``)."""
    facts: FapiaoFacts
    warnings: list[ParseWarning] = field(default_factory=list)


_XML_LIMITS = XmlLimits(max_bytes=16 * 1024 * 1024, max_depth=64, max_elements=200_000)


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """Limits applied to one input; every one is enforced before the work it bounds."""

    max_input_bytes: int = 16 * 1024 * 1024
    """Largest accepted input of any format (16 MiB)."""
    xml: XmlLimits = _XML_LIMITS
    """Limits for each XML document (the fapiao XML, every XML part inside an OFD)."""
    zip_max_members: int = 256
    """Most entries accepted in an OFD (zip) package."""
    zip_max_member_bytes: int = 16 * 1024 * 1024
    """Largest uncompressed size of one zip entry that is read."""
    zip_max_total_bytes: int = 64 * 1024 * 1024
    """Largest sum of the declared uncompressed sizes of all entries."""
    zip_max_ratio: int = 200
    """Highest accepted compression ratio of an entry larger than 64 KiB (zip bombs)."""
    json_max_depth: int = 32
    """Deepest accepted nesting of JSON arrays and objects."""
    json_max_number_digits: int = 40
    """Most digits a JSON number may take written out in full: ``1E+100000`` is eleven
    characters of JSON but a 100,001-digit amount in every text, XML or sum made of it."""
    max_lines: int = 5_000
    """Most invoice lines accepted."""


DEFAULT_LIMITS = IngestLimits()
