"""``map_invoice``: a parsed fapiao (canonical, as printed) → an invoice ready for a profile.

Stages, in order: credit-note signs → VAT categories → discount folding → line signs →
differential split → currency → VAT breakdown and totals → parties → header facts.

Decisions the official rules forced (each checked against the validators):

* PINT SG: the Chinese seller is not GST-registered, so every line is ``NG`` at 0 % with
  scheme ``GST`` (PINT SG example 04) and no seller or buyer GST id (BR-NG-02). The Chinese VAT
  the buyer pays travels as one ``NG`` document-level charge per Chinese rate, so the amount
  due equals the fapiao's gross total. The SGD rules for foreign currency (BR-113-GST-SG: BT-6
  = SGD) apply only to SR/ZR/… categories, and BT-6 would demand SGD totals (BR-53-GST-SG)
  that no fapiao carries, so a PINT SG invoice has no BT-6; the conversion is stated in BT-22.
* BIS 3 / PINT / CII: UNCL5305 from the tax case; O only when every line is not subject
  (BR-O-11), otherwise E with a reason; BT-111 in CNY when the partner invoices in another
  currency.
* At most one note (PEPPOL-EN16931-R002, ibr-sr-51): the remark and our statements are joined.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol, runtime_checkable

from gateway.mapping.currency import Converter
from gateway.mapping.lines import (
    DocAllowance,
    flip_signs,
    fold_discounts,
    is_red,
    normalise_line,
    split_differential,
)
from gateway.mapping.parties import map_buyer, map_seller
from gateway.mapping.profiles import ProfileSpec, profile_spec
from gateway.mapping.taxes import (
    DEDUCTION_REASON,
    NG_CATEGORY,
    ZERO,
    assign_categories,
    build_breakdown,
    group_lines,
)
from gateway.model import (
    CREDIT_NOTE,
    AllowanceCharge,
    Attachment,
    Invoice,
    Line,
    PaymentInstructions,
    TaxCase,
    Totals,
)
from gateway.partners import Exporter, Partner

DEFAULT_PAYMENT_TERMS = "As agreed between seller and buyer (the fapiao states no terms)"
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


@runtime_checkable
class ParsedLike(Protocol):
    """What the mapper reads from ``gateway.ingest.ParsedInvoice``."""

    invoice: Invoice
    original_xml: bytes | None


@dataclass(slots=True)
class Mapped:
    """A mapped invoice and what the mapper noticed on the way."""

    invoice: Invoice
    warnings: list[str] = field(default_factory=list)


def map_invoice(
    parsed: ParsedLike | Invoice,
    partner: Partner,
    exporter: Exporter | None,
    profile: str,
    *,
    original_xml: bytes | None = None,
) -> Invoice:
    """The invoice prepared for ``profile`` (``pint-sg``, ``bis3``, ``pint``, ``cii``)."""
    return map_with_warnings(parsed, partner, exporter, profile, original_xml=original_xml).invoice


def map_with_warnings(
    parsed: ParsedLike | Invoice,
    partner: Partner,
    exporter: Exporter | None,
    profile: str,
    *,
    original_xml: bytes | None = None,
) -> Mapped:
    """:func:`map_invoice` plus the warnings (tolerances used, references missing)."""
    spec = profile_spec(profile)
    source = parsed if isinstance(parsed, Invoice) else parsed.invoice
    if original_xml is None and not isinstance(parsed, Invoice):
        original_xml = parsed.original_xml
    inv = _working_copy(source)
    warnings: list[str] = []
    red = is_red(inv)
    if inv.totals.tax_inclusive < 0 or (red and sum(ln.net_amount for ln in inv.lines) < 0):
        flip_signs(inv)
    if red:
        inv.type_code = CREDIT_NOTE if not inv.is_credit_note else inv.type_code
        if not inv.preceding_invoices:
            warnings.append("red-letter fapiao without the reversed invoice number (BT-25)")
    chinese_tax = _chinese_tax_by_rate(inv.lines) if spec.tax_scheme == "GST" else {}
    lines, doc = _prepare_lines(inv.lines, spec)
    printed_total = _printed_tax_total(lines, doc)
    if printed_total != inv.totals.tax:
        warnings.append(
            f"Σ printed line taxes {printed_total} ≠ fapiao total tax {inv.totals.tax}; "
            "the per-line figures are used"
        )
    conv = Converter(partner.exchange_rate if partner.currency else None)
    _convert_lines(lines, doc, conv)
    charges = _ng_charges(chinese_tax, conv) if spec.tax_scheme == "GST" else []
    groups = group_lines(
        lines,
        doc,
        {(NG_CATEGORY, ZERO): sum((c.amount for c in charges), ZERO)} if charges else None,
    )
    breakdown, rounding = build_breakdown(groups, conv.amount)
    if rounding:
        warnings.append(
            f"printed VAT differs from BT-116 × rate by more than the EN 16931 tolerance; "
            f"computed VAT used and {rounding} carried as rounding amount (BT-114)"
        )
    inv.lines = lines
    inv.allowances = [d.allowance for d in doc] + charges
    inv.vat_breakdown = breakdown
    inv.currency = partner.currency or "CNY"
    inv.totals = _totals(inv, rounding)
    if partner.currency and spec.tax_scheme == "VAT":
        inv.tax_currency = "CNY"
        inv.exchange_rate = partner.exchange_rate
        inv.totals.tax_in_accounting_currency = printed_total
    else:
        inv.tax_currency, inv.exchange_rate = None, partner.exchange_rate
    with_vat = spec.tax_scheme == "VAT" and any(b.category != "O" for b in breakdown)
    inv.seller = map_seller(inv.seller, exporter, with_vat_id=with_vat)
    inv.buyer = map_buyer(inv.buyer, partner, with_vat_id=with_vat)
    _header(inv, spec, partner, original_xml, source, printed_total, conv)
    gross = abs(source.totals.tax_inclusive)
    if conv.rate is None and inv.totals.payable != gross:
        warnings.append(
            f"amount due {inv.totals.payable} differs from the fapiao's total {gross} "
            "(line amounts or taxes do not add up to the printed totals)"
        )
    return Mapped(inv, warnings)


def _prepare_lines(lines: list[Line], spec: ProfileSpec) -> tuple[list[Line], list[DocAllowance]]:
    """Categories, discount folding, line signs and (VAT profiles) differential splits."""
    assign_categories(lines, spec.tax_scheme)
    out, doc = fold_discounts(lines)
    for line in out:
        normalise_line(line)
    if spec.tax_scheme == "VAT":
        out = _split_differentials(out)
    return out, doc


def _working_copy(source: Invoice) -> Invoice:
    """A copy the mapper may change: lines, allowances and lists are new, the rest shared.

    Cheaper than a deep copy (the hot path); the mapper never mutates parties, items or
    references in place, it replaces them.
    """
    return replace(
        source,
        lines=[
            replace(line, allowances=[replace(a) for a in line.allowances]) for line in source.lines
        ],
        allowances=[replace(a) for a in source.allowances],
        totals=replace(source.totals),
        vat_breakdown=[],
        notes=list(source.notes),
        attachments=list(source.attachments),
        preceding_invoices=list(source.preceding_invoices),
    )


def _chinese_tax_by_rate(lines: list[Line]) -> dict[Decimal, Decimal]:
    taxes: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.tax_amount and line.vat_rate is not None:
            taxes[line.vat_rate] += line.tax_amount
    return {rate: tax for rate, tax in taxes.items() if tax}


def _ng_charges(taxes: dict[Decimal, Decimal], conv: Converter) -> list[AllowanceCharge]:
    """PINT SG: the Chinese VAT travels as NG charges, since the seller charges no GST."""
    out = []
    for rate, tax in sorted(taxes.items()):
        amount = conv.amount(tax)
        out.append(
            AllowanceCharge(
                is_charge=amount > 0,
                amount=abs(amount),
                vat_category=NG_CATEGORY,
                vat_rate=ZERO,
                reason=f"China VAT {rate.normalize():f}% on the fapiao (增值税, not Singapore GST)",
            )
        )
    return out


def _split_differentials(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        if line.tax_case is TaxCase.DIFFERENTIAL and line.vat_category == "S":
            out.extend(split_differential(line, DEDUCTION_REASON))
        else:
            out.append(line)
    return out


def _printed_tax_total(lines: list[Line], doc: list[DocAllowance]) -> Decimal:
    total = sum((line.tax_amount or ZERO for line in lines), ZERO)
    return total + sum((d.tax_amount for d in doc), ZERO)


def _convert_lines(lines: list[Line], doc: list[DocAllowance], conv: Converter) -> None:
    for line in lines:
        line.net_amount = conv.amount(line.net_amount)
        line.price = conv.price(line.price, line.quantity)
        for ac in line.allowances:
            ac.amount = conv.amount(ac.amount)
    for d in doc:
        d.allowance.amount = conv.amount(d.allowance.amount)


def _totals(inv: Invoice, rounding: Decimal) -> Totals:
    line_net = sum((line.net_amount for line in inv.lines), ZERO)
    allowances = sum((a.amount for a in inv.allowances if not a.is_charge), ZERO)
    charges = sum((a.amount for a in inv.allowances if a.is_charge), ZERO)
    tax = sum((b.tax_amount for b in inv.vat_breakdown), ZERO)
    exclusive = line_net - allowances + charges
    return Totals(
        line_net=line_net,
        tax_exclusive=exclusive,
        tax=tax,
        tax_inclusive=exclusive + tax,
        payable=exclusive + tax + rounding,
        allowances=allowances if any(not a.is_charge for a in inv.allowances) else None,
        charges=charges if any(a.is_charge for a in inv.allowances) else None,
        rounding=rounding or None,
    )


def _header(
    inv: Invoice,
    spec: ProfileSpec,
    partner: Partner,
    original_xml: bytes | None,
    source: Invoice,
    printed_tax: Decimal,
    conv: Converter,
) -> None:
    inv.profile = spec.name
    if not spec.issue_time:
        inv.issue_time = inv.timezone_offset_minutes = None
    inv.customization_id = spec.customization_id
    inv.process_id = spec.process_id
    inv.buyer_reference = partner.buyer_reference or inv.buyer_reference or inv.number
    inv.payment_terms = partner.payment_terms or inv.payment_terms or DEFAULT_PAYMENT_TERMS
    notes = [n for n in inv.notes if n.strip()]
    if spec.tax_scheme == "GST":
        vat = (
            f"; Chinese VAT of {printed_tax:.2f} CNY shown as document-level charges"
            if printed_tax
            else ""
        )
        notes.append(f"Seller not registered for Singapore GST (category NG){vat}.")
    if conv.rate is not None:
        t = source.totals
        notes.append(
            f"Amounts converted from CNY at {conv.rate} CNY per {inv.currency}; fapiao totals "
            f"(CNY): net {abs(t.tax_exclusive)}, VAT {abs(t.tax)}, gross {abs(t.tax_inclusive)}."
        )
    inv.notes = [" | ".join(notes)] if notes else []
    inv.attachments = []
    if spec.xml_attachment and original_xml:
        inv.attachments.append(
            Attachment(
                id=f"fapiao-{inv.number}",
                description="Original e-fapiao XML (数电票), the legal source document",
                content=original_xml,
                mime_code="application/xml",
                filename=f"fapiao-{inv.number}.xml",
            )
        )
    inv.payment = _payment(inv.payment)


def _payment(payment: PaymentInstructions | None) -> PaymentInstructions | None:
    """Keep credit-transfer details only when an account is known; BT-86 only as a BIC."""
    if payment is None or not payment.account_id:
        return None
    provider, name = payment.provider_id, payment.account_name
    if provider and not _BIC.match(provider):
        name, provider = name or provider, None
    return PaymentInstructions(
        means_code=payment.means_code or "30",
        means_text=payment.means_text,
        remittance_info=payment.remittance_info,
        account_id=payment.account_id,
        account_name=name,
        provider_id=provider,
    )
