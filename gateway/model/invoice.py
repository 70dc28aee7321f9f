"""The canonical invoice: the EN 16931 semantic model.

Every format the gateway reads maps to :class:`Invoice`, and every invoice format it writes is
rendered from it. Field docstrings name the EN 16931 business term (BT-n) or group (BG-n).
Amounts are :class:`~decimal.Decimal`, never floats. Invoice and credit note are one model,
told apart by :attr:`Invoice.type_code` (UNCL1001: 380 invoice, 381 credit note, …).

Two layers meet here:

* what a parser read from the source (amounts as printed, negative on red-letter fapiao, the
  Chinese tax case of each line, discount lines as lines), and
* what a profile mapper made of it for a target (credit notes with positive amounts, discount
  lines folded into allowances, UNCL5305 / IRAS categories chosen for the profile).

Both are the same type; :attr:`Invoice.profile` is ``None`` until a mapper has run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from gateway.model.party import Address, Party

INVOICE = "380"
"""UNCL1001 commercial invoice."""
CREDIT_NOTE = "381"
"""UNCL1001 credit note."""
CREDIT_NOTE_TYPE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
"""UNCL1001 codes that EN 16931 renders as a UBL CreditNote."""


class TaxCase(StrEnum):
    """The Chinese VAT treatment of a line, as read from the fapiao (FORMAT.md §6, §12)."""

    STANDARD = "standard"
    """General method, 13 / 9 / 6 %."""
    SIMPLIFIED = "simplified"
    """Simplified levy (简易计税 / 减按): 5, 3, 2, 1.5, 1, 0.5 %; VAT is still charged."""
    ZERO_RATE_EXPORT = "zero-export"
    """零税率 on an export (foreign buyer or 特定征税方式 02)."""
    ZERO_RATE = "zero"
    """Ordinary domestic zero rate."""
    EXEMPT = "exempt"
    """免税 (rate text ``免税``, tax ``***``)."""
    NOT_SUBJECT = "not-subject"
    """不征税 (rate text ``不征税`` or ``*``, tax empty)."""
    DIFFERENTIAL = "differential"
    """差额征税: tax computed on (sales − deduction); rate shown as ``***``."""


@dataclass(slots=True)
class Period:
    """Invoicing period (BG-14 document level, BG-26 line level)."""

    start: dt.date | None = None
    """BT-73 / BT-134 start date."""
    end: dt.date | None = None
    """BT-74 / BT-135 end date."""


@dataclass(slots=True)
class PrecedingInvoice:
    """Preceding invoice reference (BG-3)."""

    number: str
    """BT-25 preceding invoice reference (for a red-letter fapiao: the blue invoice number)."""
    issue_date: dt.date | None = None
    """BT-26 preceding invoice issue date (not carried by a red-letter fapiao)."""


@dataclass(slots=True)
class Delivery:
    """Delivery information (BG-13)."""

    party_name: str | None = None
    """BT-70 deliver-to party name."""
    location_id: str | None = None
    """BT-71 deliver-to location identifier."""
    location_scheme: str | None = None
    """BT-71-1 its scheme."""
    date: dt.date | None = None
    """BT-72 actual delivery date."""
    address: Address | None = None
    """BG-15 deliver-to address."""


@dataclass(slots=True)
class PaymentInstructions:
    """Payment instructions (BG-16) with credit transfer (BG-17)."""

    means_code: str = "30"
    """BT-81 payment means type code (UNCL4461); 30 credit transfer, 58 SEPA, 1 not defined."""
    means_text: str | None = None
    """BT-82 payment means text."""
    remittance_info: str | None = None
    """BT-83 remittance information."""
    account_id: str | None = None
    """BT-84 payment account identifier (IBAN or, for a fapiao, the Chinese account number)."""
    account_name: str | None = None
    """BT-85 payment account name: the account *holder* (for a fapiao, the seller)."""
    provider_id: str | None = None
    """BT-86 payment service provider identifier (a BIC)."""
    provider_name: str | None = None
    """The account-servicing bank's name (UBL ``FinancialInstitutionBranch/cbc:Name``); not
    an EN 16931 term, kept because a fapiao names the bank (开户行) and rarely its BIC."""


@dataclass(slots=True)
class AllowanceCharge:
    """Document-level allowance (BG-20) or charge (BG-21), or line-level (BG-27 / BG-28)."""

    is_charge: bool
    amount: Decimal
    """BT-92 / BT-99 / BT-136 / BT-141 amount, without VAT."""
    base_amount: Decimal | None = None
    """BT-93 / BT-100 / BT-137 / BT-142 base amount."""
    percentage: Decimal | None = None
    """BT-94 / BT-101 / BT-138 / BT-143 percentage."""
    vat_category: str | None = None
    """BT-95 / BT-102 VAT category code (document level only)."""
    vat_rate: Decimal | None = None
    """BT-96 / BT-103 VAT rate (document level only), percent."""
    reason: str | None = None
    """BT-97 / BT-104 / BT-139 / BT-144 reason."""
    reason_code: str | None = None
    """BT-98 / BT-105 / BT-140 / BT-145 reason code (UNCL5189 allowance, UNCL7161 charge)."""


@dataclass(slots=True)
class VatBreakdown:
    """VAT breakdown (BG-23), one per category and rate."""

    category: str
    """BT-118 VAT category code (UNCL5305, or an IRAS GST category for PINT SG)."""
    taxable_amount: Decimal
    """BT-116 VAT category taxable amount."""
    tax_amount: Decimal
    """BT-117 VAT category tax amount."""
    rate: Decimal | None = None
    """BT-119 VAT category rate, percent (``None`` for category O)."""
    exemption_reason: str | None = None
    """BT-120 VAT exemption reason text."""
    exemption_reason_code: str | None = None
    """BT-121 VAT exemption reason code (VATEX)."""


@dataclass(slots=True)
class Totals:
    """Document totals (BG-22)."""

    line_net: Decimal
    """BT-106 sum of invoice line net amounts."""
    tax_exclusive: Decimal
    """BT-109 invoice total amount without VAT."""
    tax: Decimal
    """BT-110 invoice total VAT amount (in the document currency)."""
    tax_inclusive: Decimal
    """BT-112 invoice total amount with VAT."""
    payable: Decimal
    """BT-115 amount due for payment."""
    allowances: Decimal | None = None
    """BT-107 sum of allowances on document level."""
    charges: Decimal | None = None
    """BT-108 sum of charges on document level."""
    tax_in_accounting_currency: Decimal | None = None
    """BT-111 invoice total VAT amount in the accounting currency (BT-6)."""
    prepaid: Decimal | None = None
    """BT-113 paid amount."""
    rounding: Decimal | None = None
    """BT-114 rounding amount."""


@dataclass(slots=True)
class Attachment:
    """Additional supporting document (BG-24)."""

    id: str
    """BT-122 supporting document reference."""
    description: str | None = None
    """BT-123 supporting document description."""
    uri: str | None = None
    """BT-124 external document location."""
    content: bytes | None = None
    """BT-125 attached document (the bytes)."""
    mime_code: str | None = None
    """BT-125-1 attached document MIME code (e.g. ``application/xml``)."""
    filename: str | None = None
    """BT-125-2 attached document filename."""
    type_code: str | None = None
    """UBL ``DocumentTypeCode`` of the reference, where a CIUS gives it a meaning (PINT SG
    ``sgdtotal-incl-gst`` / ``sgdtotal-excl-gst``: the totals in SGD, with the amount in
    :attr:`description`)."""


@dataclass(slots=True)
class ItemAttribute:
    """Item attribute (BG-32)."""

    name: str
    """BT-160 item attribute name."""
    value: str
    """BT-161 item attribute value."""


@dataclass(slots=True)
class Item:
    """Item information (BG-31)."""

    name: str
    """BT-153 item name (for a fapiao: ``*分类简称*名称`` as printed)."""
    description: str | None = None
    """BT-154 item description."""
    seller_id: str | None = None
    """BT-155 item seller's identifier."""
    buyer_id: str | None = None
    """BT-156 item buyer's identifier."""
    standard_id: str | None = None
    """BT-157 item standard identifier."""
    standard_id_scheme: str | None = None
    """BT-157-1 its scheme (ICD, e.g. 0160 GTIN)."""
    classifications: list[tuple[str, str, str | None]] = field(default_factory=list)
    """BT-158 item classification identifiers: (code, listID BT-158-1, version BT-158-2).

    A fapiao's 19-digit 商品和服务税收分类编码 is carried with listID ``ZZZ`` (mutually defined).
    """
    origin_country: str | None = None
    """BT-159 item country of origin."""
    attributes: list[ItemAttribute] = field(default_factory=list)
    """BG-32 item attributes (specification/model 规格型号, the original unit text, …)."""


@dataclass(slots=True)
class Line:
    """Invoice line (BG-25)."""

    id: str
    """BT-126 invoice line identifier."""
    quantity: Decimal
    """BT-129 invoiced quantity."""
    unit_code: str
    """BT-130 unit of measure code (UN/ECE Rec 20 / 21)."""
    net_amount: Decimal
    """BT-131 invoice line net amount."""
    price: Decimal
    """BT-146 item net price (tax-exclusive unit price)."""
    item: Item
    """BG-31 item information."""
    vat_category: str
    """BT-151 invoiced item VAT category code."""
    vat_rate: Decimal | None
    """BT-152 invoiced item VAT rate, percent; ``None`` for not-subject lines."""
    note: str | None = None
    """BT-127 invoice line note."""
    object_id: str | None = None
    """BT-128 invoice line object identifier."""
    object_scheme: str | None = None
    """BT-128-1 its scheme identifier (UNTDID 1153)."""
    order_line_ref: str | None = None
    """BT-132 referenced purchase order line reference."""
    accounting_ref: str | None = None
    """BT-133 invoice line buyer accounting reference."""
    period: Period | None = None
    """BG-26 invoice line period."""
    allowances: list[AllowanceCharge] = field(default_factory=list)
    """BG-27 invoice line allowances and BG-28 line charges."""
    price_discount: Decimal | None = None
    """BT-147 item price discount."""
    gross_price: Decimal | None = None
    """BT-148 item gross price."""
    base_quantity: Decimal | None = None
    """BT-149 item price base quantity."""
    base_quantity_unit: str | None = None
    """BT-150 item price base quantity unit of measure code."""
    tax_amount: Decimal | None = None
    """Line VAT amount as printed on the fapiao (税额). Not an EN 16931 term; kept so the
    VAT breakdown can follow the tax bureau's own per-line figures."""
    gross_amount: Decimal | None = None
    """Line amount including VAT as printed (含税金额). Not an EN 16931 term."""
    tax_case: TaxCase = TaxCase.STANDARD
    """The Chinese VAT treatment read from the fapiao; mappers choose BT-151 from it."""
    source_rate_text: str | None = None
    """The fapiao's TaxRate text as printed (``0.06``, ``6%``, ``免税``, ``不征税``, ``***``)."""
    is_discount: bool = False
    """A fapiao discount line (negative amount, no quantity/price) — folded by the mapper."""
    quantity_given: bool = True
    """False when the source had no quantity (discount lines, some service lines)."""


@dataclass(slots=True)
class Invoice:
    """An invoice or credit note in the EN 16931 semantic model."""

    number: str
    """BT-1 invoice number."""
    issue_date: dt.date
    """BT-2 invoice issue date."""
    type_code: str
    """BT-3 invoice type code (UNCL1001): ``380`` invoice, ``381`` credit note."""
    currency: str
    """BT-5 invoice currency code (ISO 4217)."""
    seller: Party
    """BG-4 seller."""
    buyer: Party
    """BG-7 buyer."""
    lines: list[Line]
    """BG-25 invoice lines (at least one)."""
    totals: Totals
    """BG-22 document totals."""
    vat_breakdown: list[VatBreakdown] = field(default_factory=list)
    """BG-23 VAT breakdown."""
    issue_time: dt.time | None = None
    """BT-168 (PINT) invoice issue time; local time of the issuer."""
    timezone_offset_minutes: int | None = None
    """UTC offset of the issuer's clock (a fapiao: +480, Asia/Shanghai)."""
    tax_currency: str | None = None
    """BT-6 VAT accounting currency code."""
    exchange_rate: Decimal | None = None
    """Units of BT-6 per unit of BT-5, used to derive BT-111 (not an EN 16931 term)."""
    tax_point_date: dt.date | None = None
    """BT-7 value added tax point date."""
    due_date: dt.date | None = None
    """BT-9 payment due date."""
    buyer_reference: str | None = None
    """BT-10 buyer reference."""
    project_ref: str | None = None
    """BT-11 project reference."""
    contract_ref: str | None = None
    """BT-12 contract reference."""
    order_ref: str | None = None
    """BT-13 purchase order reference."""
    sales_order_ref: str | None = None
    """BT-14 sales order reference."""
    receiving_advice_ref: str | None = None
    """BT-15 receiving advice reference."""
    despatch_advice_ref: str | None = None
    """BT-16 despatch advice reference."""
    tender_ref: str | None = None
    """BT-17 tender or lot reference."""
    invoiced_object_id: str | None = None
    """BT-18 invoiced object identifier."""
    invoiced_object_scheme: str | None = None
    """BT-18-1 its scheme identifier (UNTDID 1153, e.g. ``AAA``)."""
    buyer_accounting_ref: str | None = None
    """BT-19 buyer accounting reference."""
    payment_terms: str | None = None
    """BT-20 payment terms."""
    notes: list[str] = field(default_factory=list)
    """BG-1 / BT-22 invoice notes."""
    process_id: str | None = None
    """BT-23 business process type (ProfileID)."""
    customization_id: str | None = None
    """BT-24 specification identifier (CustomizationID)."""
    preceding_invoices: list[PrecedingInvoice] = field(default_factory=list)
    """BG-3 preceding invoice references."""
    payee: Party | None = None
    """BG-10 payee."""
    tax_representative: Party | None = None
    """BG-11 seller tax representative party."""
    delivery: Delivery | None = None
    """BG-13 delivery information."""
    period: Period | None = None
    """BG-14 invoicing period."""
    payment: PaymentInstructions | None = None
    """BG-16 payment instructions."""
    allowances: list[AllowanceCharge] = field(default_factory=list)
    """BG-20 document level allowances and BG-21 charges."""
    attachments: list[Attachment] = field(default_factory=list)
    """BG-24 additional supporting documents (the original fapiao travels here, BT-125)."""
    uuid: str | None = None
    """The document's universally unique identifier (UBL ``cbc:UUID``; PINT SG BT-SG-003).
    Read from a received document so a relay keeps it; the renderer derives one when unset."""
    profile: str | None = None
    """Target profile a mapper prepared this invoice for (``pint-sg``, ``bis3``, ``pint``,
    ``cii``); ``None`` for an invoice as parsed."""

    @property
    def is_credit_note(self) -> bool:
        """True when BT-3 makes this a credit note."""
        return self.type_code in CREDIT_NOTE_TYPE_CODES
