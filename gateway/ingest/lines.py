"""Invoice lines: amounts, quantity and price, item, tax case; and the VAT breakdown."""

from __future__ import annotations

import re
from decimal import Decimal

from gateway.errors import FieldError
from gateway.ingest.record import RawLine, Src
from gateway.ingest.taxcase import EXEMPTION_TEXT, TaxContext, line_tax
from gateway.ingest.types import Warn
from gateway.ingest.units import unit_code
from gateway.ingest.values import RateText, money, number_or_none, read_rate, require_number
from gateway.model.invoice import Item, ItemAttribute, Line, TaxCase, VatBreakdown

_PRICE_STEP = Decimal("0.00000001")
PRINTED_DECIMAL_CHARS = 25
"""The length of a line's Quantity and UnPrice (FORMAT.md §2.1: varchar(25))."""
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
NO_TAX_MARKERS = frozenset({"***", "*"})


def optional_number(
    src: Src | None, warn: Warn, allowed: frozenset[str] = frozenset()
) -> Decimal | None:
    """A number, or None for empty / the allowed markers; other text is warned about."""
    if src is None or src.value is None or src.value in allowed:
        return None
    value = number_or_none(src.text)
    if value is None:
        warn("fapiao.number", f"{src.path} is {src.text!r}, not a number; ignored", src.path)
    return value


def _plain(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _printed_decimal(src: Src | None, what: str, warn: Warn) -> Decimal | None:
    """A line's 数量 or 单价 exactly as printed, however many decimals it has.

    Both are decimal strings of up to 25 characters (FORMAT.md §2.1: varchar(25); a unit price
    such as ``4197.16981132075``), so ``0.33333333333333333333333`` is a quantity an issued
    fapiao may print. Read as an amount (at most 20 decimals) it was "not a number", ignored,
    and the quantity recomputed from the amount and price, or both replaced by 1 × amount.
    Longer than 25 characters it is no value the format has: refused, naming the field
    (``fapiao.number-length``). Other text falls back to :func:`optional_number`.
    """
    text = src.value if src is not None else None
    if src is None or text is None or not _DECIMAL_TEXT.fullmatch(text):
        return optional_number(src, warn)
    if len(text) > PRINTED_DECIMAL_CHARS:
        raise FieldError(
            f"{src.path} is {text!r}, {len(text)} characters: {what} is a decimal of at most "
            f"{PRINTED_DECIMAL_CHARS} characters (FORMAT.md §2.1, varchar(25)); no issued "
            "fapiao prints a longer one",
            field=src.path,
            rule="fapiao.number-length",
        )
    return Decimal(text)


def _quantity_and_price(raw: RawLine, amount: Decimal, warn: Warn) -> tuple[Decimal, Decimal, bool]:
    qty = _printed_decimal(raw.quantity, "数量 (Quantity)", warn)
    price = _printed_decimal(raw.price, "单价 (UnPrice)", warn)
    if qty is not None and qty != 0 and price is None:
        return qty, _plain((amount / qty).quantize(_PRICE_STEP)), True
    if price is not None and price != 0 and qty is None:
        return _plain((amount / price).quantize(_PRICE_STEP)), price, True
    if qty is None or price is None:
        return Decimal(1), amount, False
    return qty, price, True


def _require_rated_tax(raw: RawLine, rate: RateText) -> None:
    """Refuse a line taxed at a rate above zero whose 税额 (ComTaxAm) is text, not a number.

    The markers ``***``, ``*`` and an empty value belong to exempt, not-subject and
    differential lines (FORMAT.md §2.1); on a line at 13 % any other text leaves the line
    without its tax, and the invoice would only be refused later for totals that do not add
    up, without naming the line.
    """
    src = raw.tax
    if src is None or src.value is None or src.value in NO_TAX_MARKERS:
        return
    if rate.percent is None or rate.percent == 0 or number_or_none(src.text) is not None:
        return
    raise FieldError(
        f"{src.path} is {src.text!r}: the line is taxed at {rate.percent} % and its tax "
        "(税额) must be a number such as 130.00",
        field=src.path,
        rule="fapiao.number",
    )


def _require_tax_of_its_case(
    raw: RawLine, rate: RateText, case: TaxCase, tax: Decimal | None, ctx: TaxContext
) -> None:
    """Refuse a line whose 税额 (ComTaxAm) contradicts its rate (FORMAT.md §2.1: ``0.00`` on
    a zero-rate line, ``***`` on an exempt one, empty on a not-subject one, a number on a
    taxed one): a tax on a 免税 / 不征税 line, a rate hidden as ``***`` with a tax but no
    differential (差额) data, or the markers ``***`` / ``*`` / an empty 税额 on a line taxed
    at a rate above zero. Each was refused only by the mapping, for totals that do not add
    up, naming a total instead of the line."""
    src = raw.tax
    differential = ctx.differential is not None or ctx.special_tax_method == "03"
    if case in (TaxCase.EXEMPT, TaxCase.NOT_SUBJECT) and tax:
        if rate.marker == "hidden":
            raise FieldError(
                f"{raw.rate.path} hides the rate as '***', as a differential (差额) line does, "
                f"but the fapiao has no DifferentialTaxation block to derive it from, and the "
                f"line's tax {src.text!r} says it is no exempt line",
                field=raw.rate.path,
                rule="fapiao.tax-case",
            )
        what = "不征税 (not subject to VAT)" if case is TaxCase.NOT_SUBJECT else "免税 (exempt)"
        raise FieldError(
            f"{src.path} is {src.text!r}: the line is {what} and carries no tax "
            "(FORMAT.md §2.1: ***, 0.00 or empty)",
            field=src.path,
            rule="fapiao.tax-case",
        )
    if differential or rate.percent is None or rate.percent == 0:
        return
    if src.text is not None and (src.value is None or src.value in NO_TAX_MARKERS):
        raise FieldError(
            f"{src.path} is {src.text!r}: the line is taxed at {rate.percent} % and its tax "
            "(税额) must be a number such as 130.00 (***, * and an empty 税额 belong to exempt, "
            "not-subject and differential lines)",
            field=src.path,
            rule="fapiao.number",
        )


def build_line(raw: RawLine, index: int, ctx: TaxContext, is_red: bool, warn: Warn) -> Line:
    """One canonical line; ``index`` is its 1-based position (BT-126)."""
    amount = money(require_number(raw.amount.text, raw.amount.path))
    rate = read_rate(raw.rate.text)
    if rate is None:
        raise FieldError(
            f"{raw.rate.path} is {raw.rate.text!r}: expected a rate such as 0.06, 6%, 免税, "
            "不征税, * or ***",
            field=raw.rate.path,
            rule="fapiao.rate",
        )
    _require_rated_tax(raw, rate)
    tax_raw = optional_number(raw.tax, warn, NO_TAX_MARKERS)
    tax = None if tax_raw is None else money(tax_raw)
    decided = line_tax(rate, tax, ctx, raw.policy_flag)
    _require_tax_of_its_case(raw, rate, decided.case, tax, ctx)
    if decided.note:
        warn("fapiao.rate-guess", f"line {index}: {decided.note}", raw.rate.path)
    qty, price, given = _quantity_and_price(raw, amount, warn)
    unit_text = raw.unit.value if raw.unit else None
    unit, known = unit_code(unit_text)
    if not known:
        warn(
            "fapiao.unit-unknown",
            f"line {index}: unit {unit_text!r} has no UN/ECE Rec 20 code here; sent as C62 "
            "(one) with the printed unit as an item attribute",
            raw.unit.path if raw.unit else None,
        )
    attributes: list[ItemAttribute] = []
    spec = raw.spec.value if raw.spec else None
    if spec:
        attributes.append(ItemAttribute("Specification", spec))
    if unit_text:
        attributes.append(ItemAttribute("Unit as printed (单位)", unit_text))
    code = raw.tax_code.value if raw.tax_code else None
    gross_raw = optional_number(raw.gross, warn, NO_TAX_MARKERS)
    gross = money(gross_raw) if gross_raw is not None else amount + (tax or 0)
    is_discount = raw.line_kind == "01" or (not is_red and amount < 0 and not given)
    line = Line(
        id=str(index),
        quantity=qty,
        unit_code=unit,
        net_amount=amount,
        price=price,
        item=Item(
            name=raw.name.value or "",
            classifications=[(code, "ZZZ", None)] if code else [],
            attributes=attributes,
        ),
        vat_category=decided.category,
        vat_rate=decided.rate,
        tax_amount=tax,
        gross_amount=gross,
        tax_case=decided.case,
        source_rate_text=raw.rate.value,
        is_discount=is_discount,
        quantity_given=given,
    )
    if raw.name.value is None:
        warn("fapiao.item-name", f"line {index} has no item name", raw.name.path)
    return line


def breakdown(lines: list[Line]) -> list[VatBreakdown]:
    """BG-23 per (category, rate), from the lines' printed amounts and taxes."""
    groups: dict[tuple[str, Decimal | None], VatBreakdown] = {}
    for line in lines:
        key = (line.vat_category, line.vat_rate)
        group = groups.get(key)
        if group is None:
            group = groups[key] = VatBreakdown(
                category=line.vat_category,
                taxable_amount=Decimal("0.00"),
                tax_amount=Decimal("0.00"),
                rate=line.vat_rate,
                exemption_reason=EXEMPTION_TEXT.get(line.tax_case),
            )
        group.taxable_amount += line.net_amount
        group.tax_amount += line.tax_amount or 0
    return list(groups.values())
