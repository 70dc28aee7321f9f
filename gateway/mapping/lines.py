"""Line transforms: credit-note signs, discount lines, differential taxation.

Each function takes and returns plain model objects; the order they run in is fixed by
:mod:`gateway.mapping.mapper`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from gateway.errors import FieldError
from gateway.model import AllowanceCharge, Invoice, Line, TaxCase, Totals

ZERO = Decimal("0")
CENT = Decimal("0.01")
LINE_TOLERANCE = CENT
"""Largest accepted |quantity × price / base − allowances + charges − line net amount|."""

DISCOUNT_REASON = "Discount"
DISCOUNT_REASON_CODE = "95"
"""UNCL5189 95: discount."""


@dataclass(slots=True)
class DocAllowance:
    """A document-level allowance made from a discount line that could not be folded."""

    allowance: AllowanceCharge
    category: str
    rate: Decimal | None
    tax_amount: Decimal
    """The discount's printed (negative-signed) tax, CNY."""
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


def is_red(invoice: Invoice) -> bool:
    """A red-letter fapiao: credit-note type code or negative totals."""
    return invoice.is_credit_note or invoice.totals.tax_inclusive < 0


def _neg(value: Decimal | None) -> Decimal | None:
    return None if value is None else -value


def flip_signs(invoice: Invoice) -> None:
    """Turn a red-letter fapiao's negative amounts into a credit note's positive ones."""
    t = invoice.totals
    invoice.totals = Totals(
        line_net=-t.line_net,
        tax_exclusive=-t.tax_exclusive,
        tax=-t.tax,
        tax_inclusive=-t.tax_inclusive,
        payable=-t.payable,
    )
    for line in invoice.lines:
        line.quantity = -line.quantity
        line.net_amount = -line.net_amount
        line.tax_amount = _neg(line.tax_amount)
        line.gross_amount = _neg(line.gross_amount)


def line_gross_before_allowances(line: Line) -> Decimal:
    """BT-131 + line allowances (BT-136) − line charges (BT-141): quantity × net price."""
    allowances = sum((a.amount for a in line.allowances if not a.is_charge), ZERO)
    charges = sum((a.amount for a in line.allowances if a.is_charge), ZERO)
    return line.net_amount + allowances - charges


def normalise_line(line: Line) -> None:
    """Price never negative (BR-27); the quantity carries the sign of the net amount.

    A line printed without quantity and unit price becomes 1 × its amount *before* any folded
    discount (``fold_discounts`` has already lowered the net amount and added the discount as
    a line allowance), so that 1 × price − allowances = net (PEPPOL-EN16931-R120).
    """
    price = abs(line.price)
    qty = abs(line.quantity) if line.quantity_given else Decimal(1)
    if not line.quantity_given or qty == 0:
        qty, price = Decimal(1), abs(line_gross_before_allowances(line))
    if line.net_amount < 0:
        qty = -qty
    line.quantity, line.price = qty, price


def net_price_from_inclusive(line: Line) -> str | None:
    """Replace a tax-inclusive unit price by the net price it stands for; the warning, if any.

    The fapiao's UnPrice is tax-exclusive (FORMAT.md §2.1), but some issuers print the price
    with VAT: quantity × price then equals the line's gross amount (金额 + 税额), not its net
    amount. When quantity × price misses the net amount by more than a cent and matches the
    gross amount within a cent, the net price is net amount / quantity (BT-146 is a net price).
    """
    if not line.quantity_given or line.quantity == 0 or line.gross_amount is None:
        return None
    product = abs(line.quantity * line.price)
    if abs(product - abs(line.net_amount)) <= LINE_TOLERANCE:
        return None
    gross = abs(line.gross_amount)
    if gross == abs(line.net_amount) or abs(product - gross) > LINE_TOLERANCE:
        return None
    inclusive = line.price
    exact = abs(line.net_amount / line.quantity)
    line.price = _fewest_decimals(exact, abs(line.quantity), abs(line.net_amount))
    return (
        f"line {line.id}: unit price {inclusive} includes VAT (quantity {line.quantity} × "
        f"{inclusive} = the line's gross {line.gross_amount}, not its net {line.net_amount}); "
        f"the net price {line.price} is sent (BT-146)"
    )


def _fewest_decimals(exact: Decimal, qty: Decimal, net: Decimal) -> Decimal:
    """``exact`` with as few decimals (2 to 8) as keep quantity × price within a cent of net."""
    for places in range(2, 9):
        price = exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if abs(qty * price - net) <= LINE_TOLERANCE:
            return price
    return exact.quantize(Decimal(1).scaleb(-8), ROUND_HALF_UP)


def check_line_arithmetic(lines: list[Line], profile: str) -> None:
    """Refuse a line whose quantity × price / base − allowances + charges misses its net.

    EN 16931 BT-131 = BT-129 × (BT-146 / BT-149) − BT-136 + BT-141; BIS 3 enforces it
    (PEPPOL-EN16931-R120, 0.02) and PINT SG too, PINT and CII do not, so the mapper checks
    every profile itself, within a cent (:data:`LINE_TOLERANCE`).
    """
    for line in lines:
        base = line.base_quantity or Decimal(1)
        allowances = sum((a.amount for a in line.allowances if not a.is_charge), ZERO)
        charges = sum((a.amount for a in line.allowances if a.is_charge), ZERO)
        computed = line.quantity * line.price / base - allowances + charges
        if abs(computed - line.net_amount) > LINE_TOLERANCE:
            raise FieldError(
                f"{profile}: line {line.id} ({line.item.name}): quantity {line.quantity} × price "
                f"{line.price}"
                + (f" / base {base}" if base != 1 else "")
                + (f" − allowances {allowances}" if allowances else "")
                + (f" + charges {charges}" if charges else "")
                + f" = {computed.normalize():f}, not the line net amount {line.net_amount} "
                "(EN 16931 BT-131, PEPPOL-EN16931-R120); the fapiao's quantity, unit price "
                "and amount do not agree",
                field=f"lines[{line.id}].price",
                rule="mapping.line-arithmetic",
            )


SUB_CENT_TOTALS = (
    ("tax_exclusive", "TotalAmWithoutTax", "BT-109", "BR-DEC-12"),
    ("tax", "TotalTaxAm", "BT-110", "BR-DEC-13"),
    ("tax_inclusive", "TotalTax-includedAmount", "BT-112", "BR-DEC-14"),
)
"""The fapiao's printed totals: model field, fapiao element, business term, EN 16931 rule."""


def _has_sub_cents(value: Decimal) -> bool:
    return value != value.quantize(CENT)


def refuse_sub_cent_amounts(invoice: Invoice) -> None:
    """Refuse a printed total or line amount (金额) with digits below the fen.

    The fapiao prints them as number(18,2) (FORMAT.md §2.1) and EN 16931 states them with at
    most two decimals (BR-DEC-12/13/14 for BT-109/110/112, BR-DEC-23 for BT-131); the mapper
    states the fapiao's figures, it does not round a legal amount. Line taxes (税额) may carry
    six decimals and are stated per rate in cents instead (see the mapper).
    """
    totals = invoice.totals
    for attr, element, term, rule in SUB_CENT_TOTALS:
        value = getattr(totals, attr)
        if _has_sub_cents(value):
            raise FieldError(
                f"the fapiao's {element} is {value}: a total has at most two decimals (fen); "
                f"EN 16931 {rule} allows two for {term}",
                field=element,
                rule=rule,
            )
    for line in invoice.lines:
        if _has_sub_cents(line.net_amount):
            raise FieldError(
                f"line {line.id} ({line.item.name}): amount (金额) {line.net_amount} has more "
                "than two decimals; the fapiao prints it in fen and EN 16931 BR-DEC-23 allows "
                "two for the line net amount (BT-131)",
                field=f"lines[{line.id}].net_amount",
                rule="BR-DEC-23",
            )


def require_item_names(lines: list[Line]) -> None:
    """Refuse a line whose item name (BT-153) is empty or blank.

    EN 16931 BR-25 makes the item name mandatory on every line, and the Peppol rules forbid
    the empty element it would be (PEPPOL-EN16931-R008, PINT ibr-079). The fapiao requires its
    项目名称 too (FORMAT.md §2.1, ItemName ``*分类*名称``); a line without one is not guessed a
    name (the 19-digit tax classification code is no description of the goods).
    """
    for line in lines:
        if not line.item.name.strip():
            raise FieldError(
                f"line {line.id} has no item name (项目名称, ItemName): EN 16931 BR-25 requires "
                "one (BT-153) and the fapiao requires it too",
                field=f"lines[{line.id}].item.name",
                rule="BR-25",
            )


def fold_discounts(lines: list[Line]) -> tuple[list[Line], list[DocAllowance]]:
    """Fold each discount line into the line it discounts (BT-136), else to document level.

    A discount follows the discounted line and shares its VAT category and rate. When that
    line is missing, has another category, or would go negative, the discount becomes a
    document-level allowance (BG-20) of the same category.
    """
    out: list[Line] = []
    doc: list[DocAllowance] = []
    for line in lines:
        if line.net_amount >= 0 or not _looks_like_discount(line, out[-1] if out else None):
            out.append(line)
            continue
        amount = -line.net_amount
        tax = line.tax_amount or ZERO
        prev = out[-1] if out else None
        if (
            prev is not None
            and not prev.is_discount
            and prev.vat_category == line.vat_category
            and prev.vat_rate == line.vat_rate
            and prev.net_amount >= amount
            and prev.quantity > 0
        ):
            prev.allowances.append(
                AllowanceCharge(
                    is_charge=False,
                    amount=amount,
                    reason=DISCOUNT_REASON,
                    reason_code=DISCOUNT_REASON_CODE,
                )
            )
            prev.net_amount -= amount
            prev.tax_amount = (prev.tax_amount or ZERO) + tax
            if prev.gross_amount is not None and line.gross_amount is not None:
                prev.gross_amount += line.gross_amount
            continue
        doc.append(
            DocAllowance(
                AllowanceCharge(
                    is_charge=False,
                    amount=amount,
                    vat_category=line.vat_category,
                    vat_rate=line.vat_rate,
                    reason=f"{DISCOUNT_REASON}: {line.item.name}",
                    reason_code=DISCOUNT_REASON_CODE,
                ),
                line.vat_category,
                line.vat_rate,
                tax,
            )
        )
    return out, doc


def _looks_like_discount(line: Line, prev: Line | None) -> bool:
    """A parser-marked discount line, or the fapiao's convention for one: no quantity, negative
    amount, right after a line with the same item name (FORMAT.md §6)."""
    if line.is_discount:
        return True
    return (
        not line.quantity_given
        and prev is not None
        and prev.item.name == line.item.name
        and prev.net_amount > 0
    )


def split_differential(
    line: Line, exempt_reason: str, deduction: Decimal | None = None
) -> list[Line]:
    """Split a 差额征税 line into its taxed base (S) and the deducted part (E).

    The printed tax is ``(gross - deduction) / (1 + r) × r`` and the taxed base
    ``(gross - deduction) / (1 + r)`` (FORMAT.md §12), which is the line's amount less the
    printed ``deduction``: the deducted part is then exactly the 扣除额 the fapiao prints.
    Without a usable deduction the base is ``tax / r``. EN 16931 needs BT-116 × rate ≈ BT-117
    (BR-S-08/09), which one line carrying the full amount cannot satisfy.
    """
    rate = line.vat_rate
    tax = line.tax_amount or ZERO
    if rate is None or rate == 0 or line.net_amount <= 0:
        return [line]
    base = (tax * 100 / rate).quantize(Decimal("0.01"))
    if deduction is not None and 0 < deduction < line.net_amount:
        printed_base = line.net_amount - deduction
        if abs(printed_base * rate / 100 - tax) < 1:  # BR-S-09 holds for it
            base = printed_base
    base = min(base, line.net_amount)
    rest = line.net_amount - base
    if rest == 0:
        return [line]
    taxed = replace(line, net_amount=base, quantity=Decimal(1), price=base, allowances=[])
    taxed.quantity_given = False
    deducted = replace(
        line,
        id=f"{line.id}-D",
        net_amount=rest,
        quantity=Decimal(1),
        price=rest,
        tax_amount=ZERO,
        vat_category="E",
        vat_rate=Decimal(0),
        note=exempt_reason,
        allowances=[],
        tax_case=TaxCase.DIFFERENTIAL,
    )
    deducted.quantity_given = False
    return [taxed, deducted]
