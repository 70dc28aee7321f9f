"""The tax bureau's arithmetic tolerances (FORMAT.md §6), checked after parsing.

A breach is a :class:`ParseWarning` naming the rule; the invoice keeps the printed figures.

========================  =====================================================  =========
rule                      check                                                  tolerance
========================  =====================================================  =========
sta.total-gross           net total + tax total = gross total                    exact
sta.line-sum-tolerance    Σ line amounts vs. net total                           0.01
sta.line-tax-sum          Σ line taxes vs. tax total                             0.01
sta.line-price-tolerance  quantity × unit price vs. line amount                  0.01
sta.line-tax-tolerance    line amount × rate vs. line tax                        0.06
sta.line-gross            line amount + line tax vs. line gross                  0.01
sta.total-tax-tolerance   Σ (line amount × rate) vs. tax total                   1.27
sta.red-sign              red-letter totals are negative, blue ones not          —
========================  =====================================================  =========
"""

from __future__ import annotations

from decimal import Decimal

from gateway.ingest.types import ParseWarning
from gateway.model.invoice import Line, TaxCase, Totals

LINE_SUM = Decimal("0.01")
LINE_PRICE = Decimal("0.01")
LINE_TAX = Decimal("0.06")
LINE_GROSS = Decimal("0.01")
TOTAL_TAX = Decimal("1.27")

_RATED = (TaxCase.STANDARD, TaxCase.SIMPLIFIED, TaxCase.ZERO_RATE, TaxCase.ZERO_RATE_EXPORT)


def check_line(line: Line, path: str, warnings: list[ParseWarning]) -> None:
    """Per-line tolerances."""
    if line.quantity_given and abs(line.quantity * line.price - line.net_amount) > LINE_PRICE:
        warnings.append(
            ParseWarning(
                "sta.line-price-tolerance",
                f"line {line.id}: quantity {line.quantity} × price {line.price} differs from "
                f"amount {line.net_amount} by more than {LINE_PRICE}",
                path,
            )
        )
    tax = line.tax_amount
    if tax is not None and line.tax_case in _RATED and line.vat_rate is not None:
        expected = line.net_amount * line.vat_rate / 100
        if abs(expected - tax) > LINE_TAX:
            warnings.append(
                ParseWarning(
                    "sta.line-tax-tolerance",
                    f"line {line.id}: tax {tax} differs from amount × rate = {expected:.2f} "
                    f"by more than {LINE_TAX}",
                    path,
                )
            )
    if line.gross_amount is not None:
        diff = abs(line.net_amount + (tax or 0) - line.gross_amount)
        if diff > LINE_GROSS:
            warnings.append(
                ParseWarning(
                    "sta.line-gross",
                    f"line {line.id}: amount + tax differs from the printed gross "
                    f"{line.gross_amount} by {diff}",
                    path,
                )
            )


def check_totals(
    lines: list[Line], totals: Totals, is_red: bool, warnings: list[ParseWarning]
) -> None:
    """Invoice-level tolerances and signs."""
    if totals.tax_exclusive + totals.tax != totals.tax_inclusive:
        warnings.append(
            ParseWarning(
                "sta.total-gross",
                f"net {totals.tax_exclusive} + tax {totals.tax} ≠ gross {totals.tax_inclusive}",
                "TotalTax-includedAmount",
            )
        )
    if abs(totals.line_net - totals.tax_exclusive) > LINE_SUM:
        warnings.append(
            ParseWarning(
                "sta.line-sum-tolerance",
                f"Σ line amounts {totals.line_net} differs from the net total "
                f"{totals.tax_exclusive} by more than {LINE_SUM}",
                "TotalAmWithoutTax",
            )
        )
    line_tax = sum((ln.tax_amount or Decimal(0) for ln in lines), Decimal(0))
    if abs(line_tax - totals.tax) > LINE_SUM:
        warnings.append(
            ParseWarning(
                "sta.line-tax-sum",
                f"Σ line taxes {line_tax} differs from the tax total {totals.tax} "
                f"by more than {LINE_SUM}",
                "TotalTaxAm",
            )
        )
    rated = [ln for ln in lines if ln.tax_case in _RATED and ln.vat_rate is not None]
    if rated and len(rated) == len(lines):
        expected = sum((ln.net_amount * (ln.vat_rate or 0) / 100 for ln in rated), Decimal(0))
        if abs(expected - totals.tax) > TOTAL_TAX:
            warnings.append(
                ParseWarning(
                    "sta.total-tax-tolerance",
                    f"Σ (line amount × rate) = {expected:.2f} differs from the tax total "
                    f"{totals.tax} by more than {TOTAL_TAX}",
                    "TotalTaxAm",
                )
            )
    if is_red and totals.tax_inclusive > 0:
        warnings.append(
            ParseWarning(
                "sta.red-sign",
                f"red-letter fapiao with a positive gross total {totals.tax_inclusive}",
                "TotalTax-includedAmount",
            )
        )
    if not is_red and totals.tax_inclusive < 0:
        warnings.append(
            ParseWarning(
                "sta.red-sign",
                f"blue fapiao with a negative gross total {totals.tax_inclusive}",
                "TotalTax-includedAmount",
            )
        )
