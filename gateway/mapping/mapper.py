"""``map_invoice``: a parsed fapiao (canonical, as printed) → an invoice ready for a profile.

Stages, in order: credit-note signs → VAT categories → discount folding → line signs →
differential split → VAT breakdown and totals (CNY) → currency (rate of this invoice, totals
converted once, :mod:`~gateway.mapping.currency`) → parties (printed facts kept,
:mod:`~gateway.mapping.parties`) → header facts (references, special business, the original,
:mod:`~gateway.mapping.references`, :mod:`~gateway.mapping.special`,
:mod:`~gateway.mapping.originals`) → payment (:mod:`~gateway.mapping.payment`).

Every fact the mapper could not carry, chose between sources for, or found contradicted is a
warning: the receiver's accounts team and the exporter's accountant read the result, and a
valid document can still be wrong in meaning.

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
* The fapiao's printed totals are the legal amounts. A cent between Σ line taxes and the printed
  VAT total goes onto the largest standard-rated group's BT-117 (within BR-S-09's ±1; PINT SG:
  onto the largest Chinese-VAT charge), a cent between the lines and the printed gross into
  BT-114, so BT-110 and BT-115 state the printed figures, and BT-112 too unless Σ line amounts
  itself misses the printed net (BR-CO-13/14/15/16 hold); a gap beyond the tax bureau's own
  0.01 is refused (``mapping.printed-totals``). When a group's printed VAT lies a unit or more
  from BT-116 × rate (BR-S-09), BT-117 is the computed VAT, BT-114 carries the difference and
  the note states the fapiao's VAT total, so the buyer is told.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol, runtime_checkable

from gateway.errors import FieldError
from gateway.mapping.copies import shallow_copy
from gateway.mapping.currency import choose_rate, convert_invoice
from gateway.mapping.lines import (
    DocAllowance,
    check_line_arithmetic,
    flip_signs,
    fold_discounts,
    is_red,
    net_price_from_inclusive,
    normalise_line,
    refuse_sub_cent_amounts,
    require_item_names,
    split_differential,
)
from gateway.mapping.originals import Original, original_attachment
from gateway.mapping.parties import endpoint_country_warnings, map_buyer, map_seller
from gateway.mapping.payment import payment_instructions
from gateway.mapping.profiles import ProfileSpec, document_uuid, profile_spec
from gateway.mapping.references import apply_references
from gateway.mapping.remark import RemarkFacts, read_remark
from gateway.mapping.resident_ids import blank_resident_ids
from gateway.mapping.special import SpecialFacts, read_special
from gateway.mapping.submission import Submission
from gateway.mapping.taxes import (
    DEDUCTION_REASON,
    NG_CATEGORY,
    ZERO,
    absorb_charge_gap,
    absorb_tax_gap,
    assign_categories,
    build_breakdown,
    check_vat_gap,
    group_lines,
    money,
    printed_gap,
    refuse_tax_on_untaxed_lines,
)
from gateway.model import (
    CREDIT_NOTE,
    AllowanceCharge,
    Attachment,
    IdScheme,
    Invoice,
    Line,
    TaxCase,
    Totals,
)
from gateway.partners import Exporter, Partner

DEFAULT_PAYMENT_TERMS = "As agreed between seller and buyer (the fapiao states no terms)"


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
    submission: Submission | None = None,
) -> Invoice:
    """The invoice prepared for ``profile`` (one of :data:`~gateway.mapping.PROFILE_SPECS`)."""
    return map_with_warnings(
        parsed, partner, exporter, profile, original_xml=original_xml, submission=submission
    ).invoice


@dataclass(slots=True)
class _Context:
    """What the mapper reads besides the invoice: the fapiao facts and the submission."""

    remark: RemarkFacts
    additional: list[tuple[str, str]]
    """附加要素 (name, value) pairs, in the fapiao's order."""
    payments: list[str]
    """附加要素 payment records (支付渠道, 交易单号) as phrases, in the fapiao's order."""
    special: SpecialFacts
    confirmation: str | None
    original: Original
    submission: Submission
    deduction: Decimal | None = None
    """差额征税 扣除额 (DifferentialTaxation/Deduction), unsigned, when the fapiao prints one."""
    sent_invoice_dates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Issue dates (ISO) of invoices the tenant sent through the gateway, by number."""


def _context(
    parsed: ParsedLike | Invoice, original_xml: bytes | None, submission: Submission | None
) -> _Context:
    facts = None if isinstance(parsed, Invoice) else getattr(parsed, "facts", None)
    source = parsed if isinstance(parsed, Invoice) else parsed.invoice
    remark_text = getattr(facts, "remark", None)
    if facts is None:
        remark_text = " ".join(source.notes) or None
    if original_xml is None and not isinstance(parsed, Invoice):
        original_xml = parsed.original_xml
    if remark_text:
        remark_text, _ = blank_resident_ids(remark_text)
    return _Context(
        remark=read_remark(remark_text),
        additional=additional_elements(getattr(facts, "extra", None) or {}),
        payments=payment_records(getattr(facts, "extra", None) or {}),
        special=read_special(list(getattr(facts, "special", None) or [])),
        confirmation=getattr(facts, "red_confirmation_no", None),
        original=Original(
            source_format=getattr(parsed, "source_format", None),
            data=getattr(parsed, "original", None) or original_xml,
            xml=original_xml,
            personal_values=tuple(
                i.value for i in source.buyer.identifiers if i.scheme == IdScheme.CN_RESIDENT_ID
            ),
        ),
        submission=submission or Submission(),
        deduction=_deduction(getattr(facts, "differential", None)),
    )


def _deduction(differential: object) -> Decimal | None:
    """The unsigned deduction of the facts' (Deduction, SalesIncludingTax), if any."""
    if not isinstance(differential, tuple) or not differential:
        return None
    deduction = differential[0]
    return abs(deduction) if isinstance(deduction, Decimal) and deduction else None


def map_with_warnings(
    parsed: ParsedLike | Invoice,
    partner: Partner,
    exporter: Exporter | None,
    profile: str,
    *,
    original_xml: bytes | None = None,
    submission: Submission | None = None,
    sent_invoice_dates: Mapping[str, tuple[str, ...]] | None = None,
) -> Mapped:
    """:func:`map_invoice` plus the warnings (tolerances used, references missing, facts the
    directory contradicts, what could not travel). ``sent_invoice_dates``: issue dates (ISO)
    of the tenant's invoices sent through the gateway, by number (BT-26 of a credit note)."""
    spec = profile_spec(profile)
    source = parsed if isinstance(parsed, Invoice) else parsed.invoice
    ctx = _context(parsed, original_xml, submission)
    ctx.sent_invoice_dates = dict(sent_invoice_dates or {})
    inv = _working_copy(source)
    printed, warnings, vat_charges = _amounts(inv, spec, source, ctx.deduction)
    currency_warnings = _currency(inv, spec, ctx, partner, printed.tax, vat_charges)
    warnings += currency_warnings
    with_vat = spec.tax_scheme == "VAT" and any(b.category != "O" for b in inv.vat_breakdown)
    inv.seller, seller_warnings = map_seller(inv.seller, exporter, with_vat_id=with_vat)
    inv.buyer, buyer_warnings = map_buyer(inv.buyer, partner, with_vat_id=with_vat)
    warnings += seller_warnings + buyer_warnings
    warnings += endpoint_country_warnings("seller", inv.seller)
    warnings += endpoint_country_warnings("buyer", inv.buyer)
    warnings += _header(inv, spec, partner, ctx, printed)
    payment, payment_warnings = payment_instructions(inv, source.payment, exporter)
    inv.payment = payment
    warnings += payment_warnings
    if payment is not None and payment.provider_name and not spec.bank_branch_name:
        warnings.append(
            f"the seller's bank {payment.provider_name!r} is not named in the invoice: "
            f"{spec.name} has no place for a bank name (EN 16931 UBL-CR-429; BT-86 is the BIC)"
        )
    require_item_names(inv.lines)
    check_line_arithmetic(inv.lines, spec.name)
    return Mapped(inv, warnings)


def _amounts(
    inv: Invoice, spec: ProfileSpec, source: Invoice, deduction: Decimal | None = None
) -> tuple[Totals, list[str], list[AllowanceCharge]]:
    """Signs, categories, lines, VAT breakdown and totals in CNY; returns the fapiao's printed
    totals (CNY, positive on a credit note), the warnings and the document-level charges that
    carry the Chinese VAT (PINT SG). ``deduction`` is the printed 差额征税 扣除额, for the split
    of the differential line."""
    warnings: list[str] = []
    red = is_red(inv)
    if inv.totals.tax_inclusive < 0 or (red and sum(ln.net_amount for ln in inv.lines) < 0):
        flip_signs(inv)
    if red:
        inv.type_code = CREDIT_NOTE if not inv.is_credit_note else inv.type_code
        if not inv.preceding_invoices:
            warnings.append("red-letter fapiao without the reversed invoice number (BT-25)")
    printed = replace(inv.totals)
    refuse_sub_cent_amounts(inv)
    refuse_tax_on_untaxed_lines(inv.lines)
    tax_by_rate = _chinese_tax_by_rate(inv.lines)
    chinese_tax = tax_by_rate if spec.tax_scheme == "GST" else {}
    lines, doc, line_warnings = _prepare_lines(inv.lines, spec, deduction)
    warnings += line_warnings
    tax_gap = printed_gap("VAT total", printed.tax, _stated_tax_total(tax_by_rate), "TotalTaxAm")
    if tax_gap:
        warnings.append(
            f"Σ printed line taxes {printed.tax - tax_gap} ≠ fapiao total tax {printed.tax}: "
            f"the {tax_gap} is carried by the largest group so that BT-110 is the printed total"
        )
    charges = _ng_charges(chinese_tax) if spec.tax_scheme == "GST" else []
    if spec.tax_scheme == "GST" and tax_gap:
        absorb_charge_gap(charges, tax_gap)
    ng_base = sum((c.amount if c.is_charge else -c.amount for c in charges), ZERO)
    groups = group_lines(lines, doc, {(NG_CATEGORY, ZERO): ng_base} if charges else None)
    breakdown, rounding = build_breakdown(groups, money)
    check_vat_gap(rounding, lines)
    if spec.tax_scheme == "VAT" and tax_gap:
        absorb_tax_gap(breakdown, tax_gap)
    if rounding:
        warnings.append(
            f"printed VAT differs from BT-116 × rate by more than the EN 16931 tolerance; "
            f"computed VAT used and {rounding} carried as rounding amount (BT-114)"
        )
    inv.lines = lines
    inv.allowances = [d.allowance for d in doc] + charges
    inv.vat_breakdown = breakdown
    inv.totals = _totals(inv, rounding)
    _check_group_bases(inv, spec)
    payable_gap = printed_gap(
        "amount due", printed.tax_inclusive, inv.totals.payable, "TotalTax-includedAmount"
    )
    if payable_gap:
        inv.totals = _totals(inv, rounding + payable_gap)
        warnings.append(
            f"Σ line amounts differs from the fapiao's net total {printed.tax_exclusive} by "
            f"{payable_gap}: carried as rounding amount (BT-114) so that the amount due is "
            f"the fapiao's total {printed.tax_inclusive}"
        )
    return printed, warnings, charges


def _currency(
    inv: Invoice,
    spec: ProfileSpec,
    ctx: _Context,
    partner: Partner,
    printed_total: Decimal,
    vat_charges: list[AllowanceCharge],
) -> list[str]:
    """The invoice currency and rate; converts the CNY amounts (``vat_charges``: the charges
    carrying the Chinese VAT, converted as its total is). Returns the warnings."""
    choice = choose_rate(ctx.submission, ctx.remark.rate, partner, ctx.remark.currency_rates)
    inv.currency = choice.currency
    warnings = list(choice.warnings)
    if choice.rate is not None:
        warnings += convert_invoice(inv, choice.rate, inv.totals.payable, vat_charges)
    inv.exchange_rate = choice.rate
    inv.tax_currency = None
    if choice.rate is not None and spec.tax_scheme == "VAT":
        if (inv.totals.tax < 0) == (printed_total < 0):
            inv.tax_currency = "CNY"
            inv.totals.tax_in_accounting_currency = printed_total
        else:
            warnings.append(_vat_sign_warning(inv, printed_total))
    return warnings


def _vat_sign_warning(inv: Invoice, printed_total: Decimal) -> str:
    """Why the fapiao's CNY VAT is not stated as BT-111 (with BT-6 CNY).

    Each VAT group states its converted base × rate when the converted printed VAT lies a unit
    or more from it (BR-S-09, :func:`~gateway.mapping.currency.fit_converted_vat`), so the
    converted VAT total (BT-110) can be below zero while the fapiao's is zero (or the reverse):
    a 1 % group made negative by a discount, in a currency of small units such as IDR.
    PEPPOL-EN16931-R055 wants BT-110 and BT-111 of the same sign; its CII form counts zero as
    positive (``< 0`` on both sides or ``>= 0`` on both), its UBL form zero as either, so such
    an invoice failed in ``bis3-cii`` only, and told the buyer of a VAT total of the wrong sign
    in UBL. BT-6 and BT-111 are optional (BR-53 asks BT-111 only with BT-6): they are left out
    in every syntax, and the fapiao's CNY VAT stays in the conversion note.
    """
    return (
        f"the fapiao's VAT total {printed_total} CNY is {inv.totals.tax} {inv.currency} once "
        "each VAT group states its converted base × rate (EN 16931 BR-S-09; the difference "
        "is the rounding amount, BT-114): the two differ in sign, which PEPPOL-EN16931-R055 "
        "forbids, so the VAT in CNY (BT-6, BT-111) is not stated; the conversion note gives "
        "the fapiao's CNY totals"
    )


def _prepare_lines(
    lines: list[Line], spec: ProfileSpec, deduction: Decimal | None = None
) -> tuple[list[Line], list[DocAllowance], list[str]]:
    """Categories, tax-inclusive unit prices, discount folding, line signs and (VAT profiles)
    differential splits; returns the lines, the document-level discounts and the warnings."""
    assign_categories(lines, spec.tax_scheme)
    warnings = [w for w in map(net_price_from_inclusive, lines) if w is not None]
    out, doc = fold_discounts(lines)
    for line in out:
        normalise_line(line)
    if spec.tax_scheme == "VAT":
        out = _split_differentials(out, deduction)
    return out, doc, warnings


def _working_copy(source: Invoice) -> Invoice:
    """A copy the mapper may change: lines, allowances and lists are new, the rest shared.

    Cheaper than a deep copy (the hot path); the mapper never mutates parties, items or
    references in place, it replaces them.
    """
    copy = shallow_copy(source)
    copy.lines = [shallow_copy(line) for line in source.lines]
    for line in copy.lines:
        line.allowances = [shallow_copy(a) for a in line.allowances]
    copy.allowances = [shallow_copy(a) for a in source.allowances]
    copy.totals = shallow_copy(source.totals)
    copy.vat_breakdown = []
    copy.notes = list(source.notes)
    copy.attachments = list(source.attachments)
    copy.preceding_invoices = list(source.preceding_invoices)
    return copy


def _chinese_tax_by_rate(lines: list[Line]) -> dict[Decimal, Decimal]:
    """The printed line taxes (discount lines' included) summed per Chinese VAT rate."""
    taxes: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.tax_amount and line.vat_rate is not None:
            taxes[line.vat_rate] += line.tax_amount
    return {rate: tax for rate, tax in taxes.items() if tax}


def _ng_charges(taxes: dict[Decimal, Decimal]) -> list[AllowanceCharge]:
    """PINT SG: the Chinese VAT travels as NG charges, since the seller charges no GST.

    A rate whose printed VAT is negative overall (a discount at a rate with no other line)
    becomes an NG *allowance* of that amount; the NG group's base is charges − allowances.
    """
    out = []
    for rate, tax in sorted(taxes.items()):
        amount = money(tax)
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


def _split_differentials(lines: list[Line], deduction: Decimal | None) -> list[Line]:
    """Each differential line split (:func:`split_differential`); the printed deduction is
    used when one line is differential (the tax bureau allows only one)."""
    differential = [ln for ln in lines if ln.tax_case is TaxCase.DIFFERENTIAL]
    if len(differential) != 1:
        deduction = None
    out: list[Line] = []
    for line in lines:
        if line.tax_case is TaxCase.DIFFERENTIAL and line.vat_category == "S":
            out.extend(split_differential(line, DEDUCTION_REASON, deduction))
        else:
            out.append(line)
    return out


def _stated_tax_total(tax_by_rate: dict[Decimal, Decimal]) -> Decimal:
    """Σ printed line taxes as the document states them: per rate, in cents.

    A line's 税额 may be printed with six decimals, and not always zeros (FORMAT.md §2.1,
    §6); each rate's VAT is stated once in cents (BT-117 of its group, PINT SG: its charge),
    so that is what the printed total is compared with, and any gap is whole cents
    (EN 16931 BR-DEC-13, BR-DEC-20)."""
    return sum((money(tax) for tax in tax_by_rate.values()), ZERO)


def _check_group_bases(inv: Invoice, spec: ProfileSpec) -> None:
    """PINT SG: refuse, before rendering, an NG group whose base is negative (the fapiao's
    discounts and negative VAT exceed what they reduce); the GST rules cannot carry it."""
    if spec.tax_scheme != "GST":
        return
    for b in inv.vat_breakdown:
        if b.taxable_amount < 0:
            raise FieldError(
                f"{spec.name}: the {b.category} group's taxable amount would be "
                f"{b.taxable_amount} (discounts and negative Chinese VAT exceed the lines); "
                "issue the reduction as a red-letter fapiao, or convert to pint or bis3",
                field="vat_breakdown",
                rule="mapping.negative-ng-base",
            )


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
    ctx: _Context,
    printed: Totals,
) -> list[str]:
    """Profile identifiers, references, notes, special-business facts and the original."""
    inv.profile = spec.name
    if not spec.issue_time:
        inv.issue_time = inv.timezone_offset_minutes = None
    inv.customization_id = spec.customization_id
    inv.process_id = spec.process_id
    if spec.uuid and inv.uuid is None:
        seller_key = str(inv.seller.endpoint) if inv.seller.endpoint else inv.seller.name
        inv.uuid = document_uuid(seller_key, inv.number)
    inv.payment_terms = partner.payment_terms or inv.payment_terms or DEFAULT_PAYMENT_TERMS
    inv.attachments = []
    warnings = apply_references(
        inv,
        spec,
        partner,
        ctx.submission,
        ctx.remark,
        ctx.confirmation,
        sent_invoice_dates=ctx.sent_invoice_dates,
    )
    warnings += _special_facts(inv, ctx.special)
    notes = [n for n in inv.notes if n.strip()]
    if ctx.additional:
        pairs = "; ".join(f"{name}: {value}" for name, value in ctx.additional)
        notes.append(f"附加要素 (additional elements): {pairs}")
    if ctx.payments:
        notes.append(f"支付记录 (payments recorded on the fapiao): {'; '.join(ctx.payments)}")
    if spec.tax_scheme == "GST":
        vat = (
            f"; Chinese VAT of {printed.tax:.2f} CNY shown as document-level charges"
            if printed.tax
            else ""
        )
        notes.append(f"Seller not registered for Singapore GST (category NG){vat}.")
    if spec.tax_scheme == "VAT" and inv.exchange_rate is None and inv.totals.tax != printed.tax:
        notes.append(_vat_total_statement(inv, printed))
    if inv.exchange_rate is not None:
        notes.append(
            f"Amounts converted from CNY at {inv.exchange_rate} CNY per {inv.currency}; fapiao "
            f"totals (CNY): net {printed.tax_exclusive:.2f}, VAT {printed.tax:.2f}, gross "
            f"{printed.tax_inclusive:.2f}."
        )
    attachment, original_warnings = original_attachment(inv.number, spec, ctx.original)
    if attachment is not None:
        inv.attachments.insert(0, attachment)
    if spec.syntax == "cii":
        notes += cii_supporting_descriptions(inv.attachments)
    notes, note_warnings = _without_resident_ids(notes)
    inv.notes = [" | ".join(notes)] if notes else []
    return warnings + note_warnings + original_warnings


def _vat_total_statement(inv: Invoice, printed: Totals) -> str:
    """The note telling the buyer the fapiao's legal VAT total when BT-110 cannot state it.

    EN 16931 BR-S-09 keeps each group's BT-117 within one unit of BT-116 × rate; a fapiao's
    printed per-line taxes may add up to more than that away (the tax bureau allows 1.27), and
    the mapper then states the computed VAT and carries the difference in BT-114. Without this
    note the buyer would book VAT the seller never declared, not knowing why.
    """
    return (
        f"VAT total on the fapiao (合计税额): {printed.tax:.2f} {inv.currency}. EN 16931 "
        f"(BR-S-09) requires each VAT group's tax to be its taxable amount × rate, so this "
        f"invoice states {inv.totals.tax:.2f}; the difference is in the rounding amount "
        f"(BT-114) and the amount due is the fapiao's total {printed.tax_inclusive:.2f}."
    )


def _without_resident_ids(notes: list[str]) -> tuple[list[str], list[str]]:
    """The notes with every resident identity card number written into them (the remark, a
    附加要素) blanked, and the warning saying so."""
    out, blanked = [], 0
    for note in notes:
        text, count = blank_resident_ids(note)
        out.append(text)
        blanked += count
    if not blanked:
        return out, []
    return out, [
        f"the remark (备注) or 附加要素 holds {blanked} resident identity card number(s) "
        "(personal data): blanked in the note (BT-22)"
    ]


def cii_supporting_descriptions(attachments: list[Attachment]) -> list[str]:
    """CII: keep BT-123 on the first described supporting document only; the others'
    descriptions become a note (returned), their references stay.

    The EN 16931 CII binding allows one ``AdditionalReferencedDocument`` Name among those of
    TypeCode 916 (CII-SR-475), and 916 is the only code a supporting document may have there
    (CII-DT-018 allows 50, 130 and 916; 50 and 130 are BT-17 and BT-18). So a credit note's
    red-letter confirmation form (红字发票信息确认单) or a customs declaration keeps 916 and its
    number, and says what it is in BT-22. UBL has no such limit.
    """
    described = [a for a in attachments if a.description]
    if len(described) < 2:
        return []
    listed = "; ".join(f"{a.id}: {a.description}" for a in described[1:])
    for a in described[1:]:
        a.description = None
    return [f"Supporting documents (BG-24): {listed}."]


def additional_elements(extra: dict[str, str]) -> list[tuple[str, str]]:
    """The 附加要素 pairs the parser keeps as ``additional.<n>.<name>`` facts, in order."""
    found: list[tuple[int, str, str]] = []
    for key, value in extra.items():
        prefix, _, rest = key.partition(".")
        index, _, name = rest.partition(".")
        if prefix == "additional" and index.isdigit() and name:
            found.append((int(index), name, value))
    return [(name, value) for _, name, value in sorted(found)]


def payment_records(extra: dict[str, str]) -> list[str]:
    """The payment records the parser keeps as ``payment.<n>.channel`` / ``.transaction``
    facts, each as ``支付渠道 <channel>, 交易单号 <number>``, in order."""
    records: dict[int, dict[str, str]] = {}
    for key, value in extra.items():
        prefix, _, rest = key.partition(".")
        index, _, name = rest.partition(".")
        if prefix == "payment" and index.isdigit() and name in ("channel", "transaction"):
            records.setdefault(int(index), {})[name] = value
    labels = (("channel", "支付渠道"), ("transaction", "交易单号"))
    return [
        ", ".join(f"{label} {fields[key]}" for key, label in labels if key in fields)
        for _, fields in sorted(records.items())
    ]


def _special_facts(inv: Invoice, special: SpecialFacts) -> list[str]:
    """Deliver-to place, invoicing period, project and object from the 特定业务 blocks."""
    if special.delivery is not None and inv.delivery is None:
        inv.delivery = special.delivery
    if special.period is not None and inv.period is None:
        inv.period = special.period
    if special.project and not inv.project_ref:
        inv.project_ref = special.project
    if special.object_id and not inv.invoiced_object_id:
        inv.invoiced_object_id = special.object_id
    return list(special.warnings)
