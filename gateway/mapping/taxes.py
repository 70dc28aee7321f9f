"""VAT categories from the Chinese tax case, and the VAT breakdown (BG-23).

The breakdown follows the tax bureau's own printed per-line taxes (FORMAT.md §13.7): BT-117 of
a group is the sum of its lines' printed taxes, as long as that stays within the EN 16931
tolerance (BR-S-09: strictly less than one unit from BT-116 × rate). Outside it, BT-117 is the
computed tax and the difference travels as the rounding amount (BT-114), so the amount due
still equals the fapiao's total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from gateway.errors import FieldError
from gateway.mapping.lines import DocAllowance
from gateway.model import AllowanceCharge, Line, TaxCase, VatBreakdown

ZERO = Decimal("0")
CENT = Decimal("0.01")

EXPORT_REASON = (
    "Export zero rate under Chinese VAT (出口零税率): no Chinese VAT "
    "charged on the export of goods or zero-rated cross-border services"
)
EXEMPT_REASON = "Exempt from Chinese VAT (免税)"
NOT_SUBJECT_REASON = "Not subject to VAT: outside the scope of Chinese VAT (不征税)"
DEDUCTION_REASON = "Deducted amount under Chinese differential taxation (差额征税扣除额)"
NG_CATEGORY = "NG"
"""IRAS GST category: supplier not GST-registered (PINT SG example 04)."""

_CASE_CATEGORY = {
    TaxCase.STANDARD: "S",
    TaxCase.SIMPLIFIED: "S",
    TaxCase.DIFFERENTIAL: "S",
    TaxCase.ZERO_RATE_EXPORT: "G",
    TaxCase.ZERO_RATE: "Z",
    TaxCase.EXEMPT: "E",
    TaxCase.NOT_SUBJECT: "O",
}


def assign_categories(lines: list[Line], scheme: str) -> None:
    """Set BT-151 / BT-152 on every line for the target's tax scheme.

    ``GST`` (PINT SG): every line ``NG`` at 0 %. ``VAT``: UNCL5305 from the tax case; category
    O only when every line is not subject (BR-O-11), otherwise such lines become E.
    """
    if scheme == "GST":
        for line in lines:
            line.vat_category, line.vat_rate = NG_CATEGORY, ZERO
        return
    all_o = all(line.tax_case is TaxCase.NOT_SUBJECT for line in lines)
    for line in lines:
        category = _CASE_CATEGORY.get(line.tax_case, "S")
        if category == "O" and not all_o:
            category = "E"
        line.vat_category = category
        if category == "O":
            line.vat_rate = None
        elif category == "S":
            if not line.vat_rate:
                raise FieldError(
                    f"line {line.id}: no VAT rate for tax case '{line.tax_case}' "
                    f"(printed rate {line.source_rate_text!r}); EN 16931 needs one above zero",
                    field=f"lines[{line.id}].vat_rate",
                    rule="BR-S-05",
                )
        else:
            line.vat_rate = ZERO


UNTAXED_CASES = {
    TaxCase.EXEMPT: "exempt (免税)",
    TaxCase.NOT_SUBJECT: "not subject to VAT (不征税)",
    TaxCase.ZERO_RATE: "zero-rated (0 %)",
    TaxCase.ZERO_RATE_EXPORT: "zero-rated for export (出口零税率)",
}
"""The tax cases that carry no VAT, as a person names them."""
HIDDEN_RATE = "***"
"""The rate a 差额征税 line shows on the fapiao's face (FORMAT.md §2.1, §6)."""


def refuse_tax_on_untaxed_lines(lines: list[Line]) -> None:
    """Refuse a line exempt, not subject or zero-rated whose printed 税额 is not zero.

    Such a line prints ``***``, nothing or ``0.00`` as its tax (FORMAT.md §2.1), and EN 16931
    gives its category no tax (BR-E-09, BR-O-09, BR-Z-09, BR-G-09). A number there contradicts
    the printed rate: the VAT profiles could not state the fapiao's totals and PINT SG would
    charge the buyer "China VAT 0 %". Which of the two the issuer meant is for the exporter to
    say (issue a red-letter fapiao and a corrected one), so the line is named here.
    """
    for line in lines:
        case = UNTAXED_CASES.get(line.tax_case)
        if case is None or not line.tax_amount:
            continue
        if (line.source_rate_text or "").strip() == HIDDEN_RATE:
            raise FieldError(
                f"line {line.id} ({line.item.name}): the fapiao prints the rate '***' with a "
                f"tax (税额) of {line.tax_amount}: '***' is how a 差额征税 (differential "
                "taxation) line shows its rate, but the fapiao carries neither its "
                "DifferentialTaxation data nor the 差额开票 label, so its rate and taxed base "
                "are unknown; convert the 数电票 XML, which carries them",
                field=f"lines[{line.id}].vat_rate",
                rule="mapping.untaxed-line-tax",
            )
        raise FieldError(
            f"line {line.id} ({line.item.name}): the fapiao prints the rate "
            f"{line.source_rate_text!r}, {case}, but a tax (税额) of {line.tax_amount}; a line "
            "without VAT prints ***, nothing or 0.00 (EN 16931 BR-E-09, BR-O-09, BR-Z-09, "
            "BR-G-09: no tax in its category), so the fapiao contradicts itself",
            field=f"lines[{line.id}].tax_amount",
            rule="mapping.untaxed-line-tax",
        )


def reasons_for(category: str, cases: Iterable[TaxCase]) -> tuple[str | None, str | None]:
    """BT-120 text and BT-121 code for a breakdown group.

    Only texts: the VATEX codes name EU VAT-directive cases (``VATEX-EU-G`` is an export out
    of the EU under Art. 146), which a Chinese export or a Chinese not-subject supply is not.
    EN 16931 accepts the text alone (BR-G-10, BR-O-10, BR-E-10).
    """
    found = set(cases)
    if category == "G":
        return EXPORT_REASON, None
    if category == "O":
        return NOT_SUBJECT_REASON, None
    if category == "E":
        texts = []
        if TaxCase.EXEMPT in found:
            texts.append(EXEMPT_REASON)
        if TaxCase.NOT_SUBJECT in found:
            texts.append(NOT_SUBJECT_REASON)
        if TaxCase.DIFFERENTIAL in found:
            texts.append(DEDUCTION_REASON)
        return "; ".join(texts) or EXEMPT_REASON, None
    return None, None


@dataclass(slots=True)
class Group:
    """One (category, rate) group while the breakdown is built."""

    category: str
    rate: Decimal | None
    taxable: Decimal = ZERO
    printed_tax: Decimal = ZERO
    """Σ printed taxes in CNY (lines and folded discounts)."""
    cases: set[TaxCase] | None = None


def group_lines(
    lines: list[Line],
    doc: list[DocAllowance],
    charges_by_key: dict[tuple[str, Decimal | None], Decimal] | None = None,
) -> dict[tuple[str, Decimal | None], Group]:
    """Groups keyed by (category, rate) with taxable amounts in the line currency."""
    groups: dict[tuple[str, Decimal | None], Group] = {}
    for line in lines:
        key = (line.vat_category, line.vat_rate)
        g = groups.setdefault(key, Group(key[0], key[1], cases=set()))
        g.taxable += line.net_amount
        g.printed_tax += line.tax_amount or ZERO
        assert g.cases is not None
        g.cases.add(line.tax_case)
    for d in doc:
        key = (d.category, d.rate)
        g = groups.setdefault(key, Group(key[0], key[1], cases=set()))
        g.taxable -= d.allowance.amount
        g.printed_tax += d.tax_amount
    for key, amount in (charges_by_key or {}).items():
        g = groups.setdefault(key, Group(key[0], key[1], cases=set()))
        g.taxable += amount
    return groups


def money(value: Decimal) -> Decimal:
    """Round half up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def build_breakdown(
    groups: dict[tuple[str, Decimal | None], Group],
    convert: Callable[[Decimal], Decimal],
) -> tuple[list[VatBreakdown], Decimal]:
    """The VAT breakdown and the rounding difference it leaves (target currency).

    ``convert`` turns a CNY amount into the document currency (identity for CNY).
    """
    out: list[VatBreakdown] = []
    rounding = ZERO
    for g in groups.values():
        reason, code = reasons_for(g.category, g.cases or set())
        tax = ZERO
        if g.category == "S" and g.rate:
            printed = convert(g.printed_tax)
            computed = money(g.taxable * g.rate / 100)
            if abs(printed - computed) < 1:
                tax = printed
            else:
                tax = computed
                rounding += printed - computed
        out.append(
            VatBreakdown(
                category=g.category,
                taxable_amount=g.taxable,
                tax_amount=tax,
                rate=g.rate,
                exemption_reason=reason,
                exemption_reason_code=code,
            )
        )
    return out, rounding


STA_TOTAL_TAX_TOLERANCE = Decimal("1.27")
"""The tax bureau's largest accepted |Σ (line amount × rate) − total tax| on one fapiao
(FORMAT.md §6): the most VAT a fapiao the platform issued can print away from its rates."""


def check_vat_gap(rounding: Decimal, lines: list[Line]) -> None:
    """Refuse when the VAT the rates give differs from the printed VAT by more than the tax
    bureau allows (:data:`STA_TOTAL_TAX_TOLERANCE`), instead of carrying the difference as
    the rounding amount (BT-114, meant for rounding the amount due): no issued fapiao can
    print that, so a line's rate or tax is not what the fapiao means (``0.5`` read as 50 %
    where 0.5 % was meant). The lines furthest off are named."""
    if abs(rounding) <= STA_TOTAL_TAX_TOLERANCE:
        return
    off: list[tuple[Decimal, Line, Decimal, Decimal]] = []
    for ln in lines:
        if ln.vat_category == "S" and ln.vat_rate and ln.tax_amount is not None:
            computed = money(abs(ln.net_amount * ln.vat_rate / 100))
            printed = abs(ln.tax_amount)
            off.append((abs(computed - printed), ln, computed, printed))
    off.sort(key=lambda found: found[0], reverse=True)
    named = "; ".join(
        f"line {ln.id}: {ln.source_rate_text or ln.vat_rate} read as {ln.vat_rate} %, so "
        f"{abs(ln.net_amount)} × {ln.vat_rate} % = {computed} against the printed tax {printed}"
        for gap, ln, computed, printed in off[:3]
        if gap > STA_TOTAL_TAX_TOLERANCE / 10
    )
    raise FieldError(
        f"the printed VAT differs from the taxable amounts × their rates by {abs(rounding)}, more "
        f"than the tax bureau's own tolerance of {STA_TOTAL_TAX_TOLERANCE} (FORMAT.md §6): "
        f"a rate or a tax is not read as the fapiao means it ({named or 'see the lines'})",
        field="TaxRate",
        rule="mapping.vat-rate-gap",
    )


PRINTED_TOTAL_TOLERANCE = Decimal("0.01")
"""Largest gap accepted between a fapiao's printed total and the sum of its lines: the tax
bureau's own tolerance for Σ line amounts and Σ line taxes (FORMAT.md §6, 0.01)."""
BR_S_09_TOLERANCE = Decimal("1")
"""EN 16931 BR-S-09: |BT-117 − round(BT-116 × BT-119)| < 1."""


def printed_gap(what: str, printed: Decimal, mapped: Decimal, element: str) -> Decimal:
    """``printed − mapped``: zero or a cent, which the mapper makes up; more is refused.

    The fapiao's printed totals are the legal amounts (BT-110, BT-112, BT-115 must state
    them); a gap beyond the tax bureau's own tolerance means the lines do not add up.
    """
    gap = printed - mapped
    if abs(gap) > PRINTED_TOTAL_TOLERANCE:
        raise FieldError(
            f"{what}: the fapiao prints {printed} ({element}) but its lines add up to {mapped}, "
            f"a gap of {gap} beyond the tax bureau's tolerance of {PRINTED_TOTAL_TOLERANCE}; "
            "the invoice cannot state the fapiao's legal totals",
            field=element,
            rule="mapping.printed-totals",
        )
    return gap


def absorb_tax_gap(breakdown: list[VatBreakdown], gap: Decimal) -> None:
    """Add ``gap`` to the tax of the largest standard-rated group that stays within BR-S-09,
    so that Σ BT-117 = BT-110 = the printed VAT total (BR-CO-14); refuse when none can."""
    rated = [b for b in breakdown if b.category == "S" and b.rate]
    for b in sorted(rated, key=lambda b: abs(b.taxable_amount), reverse=True):
        assert b.rate is not None
        computed = money(b.taxable_amount * b.rate / 100)
        if abs(b.tax_amount + gap - computed) < BR_S_09_TOLERANCE:
            b.tax_amount += gap
            return
    raise FieldError(
        f"VAT total: the fapiao's printed total differs from Σ line taxes by {gap} and no "
        "standard-rated VAT group can carry it within EN 16931 BR-S-09",
        field="TotalTaxAm",
        rule="mapping.printed-totals",
    )


def absorb_charge_gap(charges: list[AllowanceCharge], gap: Decimal) -> None:
    """PINT SG: add ``gap`` to the largest Chinese-VAT charge (the VAT travels as NG charges),
    so that the amount due is the printed total; refuse when the lines carry no VAT."""
    if not charges:
        raise FieldError(
            f"VAT total: the fapiao's printed total differs from Σ line taxes by {gap} and no "
            "line carries Chinese VAT to put it on",
            field="TotalTaxAm",
            rule="mapping.printed-totals",
        )
    largest = max(charges, key=lambda c: c.amount)
    signed = (largest.amount if largest.is_charge else -largest.amount) + gap
    largest.is_charge, largest.amount = signed >= 0, abs(signed)
