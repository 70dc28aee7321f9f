"""The Chinese tax case of a line, from its rate text, the header labels and the buyer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.ingest.values import RateText
from gateway.model.invoice import TaxCase

STANDARD_RATES = frozenset(Decimal(r) for r in ("13", "9", "6", "17", "16", "11", "10"))
"""General-method rates, current (13/9/6) and historical (17/16/11/10)."""
KNOWN_RATES = (*sorted(STANDARD_RATES), *(Decimal(r) for r in ("5", "3", "2", "1.5", "1", "0.5")))

CATEGORY = {
    TaxCase.STANDARD: "S",
    TaxCase.SIMPLIFIED: "S",
    TaxCase.DIFFERENTIAL: "S",
    TaxCase.ZERO_RATE: "Z",
    TaxCase.ZERO_RATE_EXPORT: "G",
    TaxCase.EXEMPT: "E",
    TaxCase.NOT_SUBJECT: "O",
}
"""A neutral UNCL5305 default per tax case; profile mappers may choose differently."""

EXEMPTION_TEXT = {
    TaxCase.EXEMPT: "免税 (exempt)",
    TaxCase.NOT_SUBJECT: "不征税 (not subject to VAT)",
    TaxCase.ZERO_RATE_EXPORT: "出口零税率 (export, zero rate)",
}


@dataclass(frozen=True, slots=True)
class TaxContext:
    """Invoice-level facts that decide a line's tax case."""

    special_tax_method: str | None
    export_hint: bool
    differential: tuple[Decimal, Decimal] | None
    export_policy: str | None = None
    """出口业务适用政策代码 ``ckywsyzcDm`` (platform JSON): ``01`` 退税政策 (zero rate),
    ``02`` 免税政策 (exempt), ``03`` 征税政策 (taxed) — FORMAT.md §8."""


@dataclass(frozen=True, slots=True)
class LineTax:
    """A line's tax case, neutral category and rate in percent."""

    case: TaxCase
    category: str
    rate: Decimal | None
    note: str | None = None
    """Why the case is a guess, when it is (becomes a warning)."""


def _make(case: TaxCase, rate: Decimal | None, note: str | None = None) -> LineTax:
    return LineTax(case, CATEGORY[case], rate, note)


def differential_rate(tax: Decimal | None, ctx: TaxContext) -> Decimal | None:
    """The rate behind a differential line: tax / (sales − deduction − tax), snapped to a known rate."""
    if ctx.differential is None or tax is None:
        return None
    deduction, sales = ctx.differential
    base = sales - deduction - tax
    if base == 0:
        return None
    raw = abs(tax / base) * 100
    return min(KNOWN_RATES, key=lambda r: abs(r - raw))


def line_tax(
    rate: RateText, tax: Decimal | None, ctx: TaxContext, policy_flag: str | None
) -> LineTax:
    """Decide the tax case of one line."""
    if policy_flag == "03" or rate.marker == "exempt":
        return _make(TaxCase.EXEMPT, Decimal(0))
    if policy_flag == "04" or rate.marker == "not-subject":
        return _make(TaxCase.NOT_SUBJECT, None)
    if rate.marker == "hidden" or (ctx.differential is not None and rate.percent is not None):
        if ctx.differential is not None or ctx.special_tax_method == "03":
            percent = rate.percent if rate.percent is not None else differential_rate(tax, ctx)
            return _make(TaxCase.DIFFERENTIAL, percent)
        return _make(
            TaxCase.EXEMPT,
            Decimal(0),
            "rate printed as '***' without differential data; read as exempt",
        )
    percent = rate.percent if rate.percent is not None else Decimal(0)
    if percent == 0:
        if ctx.export_policy == "02":
            return _make(TaxCase.EXEMPT, Decimal(0))
        if ctx.export_hint:
            return _make(TaxCase.ZERO_RATE_EXPORT, Decimal(0))
        return _make(TaxCase.ZERO_RATE, Decimal(0))
    if policy_flag in {"01", "08", "09", "10"} or ctx.special_tax_method in {"05", "06"}:
        return _make(TaxCase.SIMPLIFIED, percent)
    if percent in STANDARD_RATES:
        return _make(TaxCase.STANDARD, percent)
    return _make(TaxCase.SIMPLIFIED, percent)
