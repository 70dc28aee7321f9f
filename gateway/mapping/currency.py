"""The invoice currency and its rate, and converting a mapped CNY invoice into it.

**Which rate.** A fapiao is in CNY; an invoice in another currency needs the rate of *this*
invoice. Sources, in order: the submission's ``exchange_rate``, the rate the fapiao itself
states in its 备注, then the partner's standing ``exchange_rate``. The submission and the
fapiao *agree* when the more precise rate lies within the rounding of the less precise one
(7.12 stands for 7.115-7.125, so 7.1234 agrees); then the **more precise** of the two is used,
whichever source gave it (7 and 7.4999 agree, and 7.4999 is used: 7 would shift the invoice by
7 %). When they disagree the conversion is refused (``fx.conflict``): the document would
contradict the exporter's own legal document, and which of the two is a slip is for the
exporter to say. The partner's standing rate is a plausibility check: a rate used that lies
more than :data:`STANDING_RATE_TOLERANCE` (10 %) from it is refused (``fx.standing-rate``),
naming both — a rate for another currency, or one written the wrong way round (0.1408 for
7.1023), would otherwise be applied silently; within it, and for a rate the submission and the
fapiao agree on or the fapiao states for this currency, the difference is a warning (the
standing rate may be the stale one). A remark rate that names no currency is used only when
the remark names exactly one foreign currency (it is that one's) or the submission's rate
confirms it; otherwise the conversion is refused (``fx.rate-currency``).

**Rounding.** EN 16931 amounts have at most two decimals; a converted amount has its currency's
(:mod:`gateway.model.currencies`: whole units for JPY or KRW, two decimals otherwise, three-
decimal currencies capped at two). Each converted amount is rounded half up to that unit and
the units left over are handed to the amounts with the largest rounding remainders, so that
the net total, the VAT total and the amount due are each the converted fapiao figure rounded
once (the amount due equals the converted fapiao total). Three figures rounded once need not
add up (10.005 + 1.005 = 11.01, but 10.01 + 1.01 = 11.02): the cent between net + VAT and the
amount due is the rounding amount (BT-114), never taken from the VAT. Dividing by the rate
also divides the room the fapiao's per-line rounding had: a group whose printed VAT lies 0.05
CNY from its base × rate lies a yen off in JPY and 10 won off in KRW, beyond EN 16931 BR-S-09
and BR-CO-17 (less than one unit); such a group states its converted base × rate and the
difference joins the rounding amount, as in CNY (:func:`fit_converted_vat`). PINT SG carries the
Chinese VAT as charges (the NG categories have no tax): those charges are converted as the VAT
total is, apart from the goods. A converted unit price takes as few
decimals as keep quantity × price within a cent of the line amount; a price base quantity
(BT-149) is used before more than six decimals would be needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from gateway.errors import FieldError, MissingFactError
from gateway.mapping.remark import StatedRate
from gateway.mapping.submission import Submission
from gateway.model import AllowanceCharge, Invoice, Totals, VatBreakdown
from gateway.model.currencies import amount_unit
from gateway.partners import Partner

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_PRICE_DECIMALS = 6
PRICE_TOLERANCE = CENT
"""Largest accepted |quantity × price / base − line amount| (PEPPOL-EN16931-R120 allows 0.02)."""
PLAUSIBLE_RATES = (Decimal("0.00001"), Decimal("1000"))
"""CNY per unit of any currency in use lies well inside these (1 KWD is about 23 CNY, 1 LBP
about 0.00008 CNY); a rate outside is a slip, not a rate to convert an invoice with."""
STANDING_RATE_TOLERANCE = Decimal("0.10")
"""Largest relative difference accepted between the rate used and the partner's standing rate
(a currency seldom moves 10 % against CNY between two updates of the directory)."""
RATE_FIELDS = {
    "submission": "metadata.exchange_rate",
    "fapiao": "fapiao.remark",
    "partner": "partners.exchange_rate",
}
"""Where each source of a rate is given (for the error naming it)."""


@dataclass(slots=True)
class RateChoice:
    """The invoice currency, the rate (CNY per unit) and where it came from."""

    currency: str
    rate: Decimal | None
    source: str | None = None
    """``submission``, ``fapiao`` or ``partner``."""
    warnings: list[str] = field(default_factory=list)


def _decimals(value: Decimal) -> int:
    """The decimals as stated (``7.0000`` has four: its zeros are significant)."""
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def rates_agree(a: Decimal, b: Decimal) -> bool:
    """Whether the more precise rate lies within the rounding of the less precise one.

    7.12 (stated to two decimals, so 7.115 ≤ x < 7.125) agrees with 7.1234; 7 agrees with
    7.4999 but not with 7.5. Agreement says only that neither contradicts the other:
    :func:`more_precise` says which to use.
    """
    coarse, fine = sorted((a, b), key=_decimals)
    step = Decimal(1).scaleb(-_decimals(coarse))
    try:
        return fine.quantize(step, ROUND_HALF_UP) == coarse
    except InvalidOperation:  # a rate too large to hold that many decimals: not the same
        return False


def more_precise(a: tuple[Decimal, str], b: tuple[Decimal, str]) -> tuple[Decimal, str]:
    """Of two agreeing (rate, source) pairs, the one stated with more decimals (``a`` on a tie)."""
    return b if _decimals(b[0]) > _decimals(a[0]) else a


def choose_rate(
    submission: Submission,
    stated: StatedRate | None,
    partner: Partner,
    currency_rates: Sequence[StatedRate] = (),
) -> RateChoice:
    """The invoice currency and its rate, from the three sources in order (module docstring).

    ``stated`` is the first rate the fapiao's remark states; ``currency_rates`` are all it
    states for named currencies, and the one for the invoice currency is taken instead when
    the remark lists several (``美元汇率 7.10；欧元汇率 7.70`` for an invoice in EUR)."""
    currency = submission.currency or partner.currency or "CNY"
    stated = next((r for r in currency_rates if r.currency == currency), stated)
    if currency == "CNY":
        out = RateChoice("CNY", None)
        if submission.exchange_rate is not None:
            out.warnings.append(
                "submission exchange_rate ignored: the invoice is in CNY (no currency given)"
            )
        if stated is not None:
            out.warnings.append(
                f"the fapiao states an exchange rate ({stated.text!r}) but the invoice is in CNY: "
                "give the partner a `currency` (or send `currency` with the submission) to "
                "invoice in that currency"
            )
        return out
    out = RateChoice(currency, None)
    fapiao_rate: Decimal | None = None
    if stated is not None and stated.inverse and stated.currency in (None, currency):
        _check_inverse_statement(stated, submission.exchange_rate, out)
    elif stated is not None:
        if stated.currency in (None, currency):
            fapiao_rate = stated.rate
        else:
            out.warnings.append(
                f"the fapiao states a rate for {stated.currency} ({stated.text!r}), but the "
                f"invoice is in {currency}: not used"
            )
    partner_rate = partner.exchange_rate if partner.currency == currency else None
    sub = submission.exchange_rate
    if fapiao_rate is not None and stated is not None and stated.currency is None and sub is None:
        _refuse_rate_of_no_currency(stated, currency)
    for given, name in ((sub, "submission"), (fapiao_rate, "fapiao")):
        if given is not None:
            _check_plausible(given, currency, name)
    if sub is not None and fapiao_rate is not None and not rates_agree(sub, fapiao_rate):
        raise FieldError(
            f"exchange rate conflict: the submission says {sub} CNY per {currency}, the fapiao's "
            f"remark says {stated.text if stated else fapiao_rate!r}; the invoice would contradict "
            "the exporter's fapiao (send the rate the fapiao states, or none)",
            field="metadata.exchange_rate",
            rule="fx.conflict",
        )
    chosen = next(
        (
            (rate, name)
            for rate, name in (
                (sub, "submission"),
                (fapiao_rate, "fapiao"),
                (partner_rate, "partner"),
            )
            if rate is not None
        ),
        None,
    )
    if sub is not None and fapiao_rate is not None:
        chosen = more_precise((sub, "submission"), (fapiao_rate, "fapiao"))
        if chosen[0] != sub:
            out.warnings.append(
                f"exchange rate {chosen[0]} from the fapiao's remark used: the submission's "
                f"{sub} agrees with it at its precision and the fapiao states more decimals"
            )
    if chosen is None:
        raise MissingFactError(
            f"exchange rate CNY per {currency}: send `exchange_rate` with the submission, state "
            f"it in the fapiao's remark (汇率：1 {currency} = x CNY) or add `exchange_rate` to "
            "the [[partners]] entry",
            field="metadata.exchange_rate",
        )
    out.rate, out.source = chosen
    if out.source == "fapiao" and stated is not None and stated.inferred:
        out.warnings.append(
            f"the fapiao's remark states the rate {stated.text!r} without naming its currency; "
            f"{currency}, the one foreign currency the remark names, is taken as its currency: "
            f"{out.rate} CNY per {currency} (rates in China are quoted as CNY per unit of the "
            "foreign currency)"
        )
    if out.source == "partner":
        _check_plausible(out.rate, currency, out.source)
    if partner_rate is not None and out.source != "partner":
        corroborated = (sub is not None and fapiao_rate is not None) or (
            out.source == "fapiao"
            and stated is not None
            and stated.currency == currency
            and not stated.inferred
        )
        _check_standing_rate(out, partner_rate, stated, corroborated=corroborated)
    return out


def _refuse_rate_of_no_currency(stated: StatedRate, currency: str) -> None:
    """Refuse a remark rate that names no currency when nothing tells whose it is.

    The fapiao has no currency element; a foreign currency appears only in the remark
    (FORMAT.md §6, §8), and the invoice currency comes from the partner directory or the
    submission, which say nothing about the rate the exporter wrote. Unless the remark names
    exactly one foreign currency (then :func:`~gateway.mapping.remark.read_rate` takes that
    one) or the submission's ``exchange_rate`` confirms it, taking the rate as CNY per
    invoice-currency unit is a guess: a USD rate on an EUR invoice is some 8 % off, inside
    any plausibility band. Refused (``fx.rate-currency``), naming the remark."""
    named = ", ".join(stated.named)
    found = f"names several foreign currencies ({named})" if named else "names no currency"
    raise FieldError(
        f"the fapiao's remark states the exchange rate {stated.text!r} without naming its "
        f"currency, and the remark {found}: it cannot be told to be CNY per {currency}; "
        f"send `exchange_rate` (CNY per {currency}) with the submission, which is checked "
        f"against the remark, or have the remark name it (汇率：1 {currency} = x CNY)",
        field=RATE_FIELDS["fapiao"],
        rule="fx.rate-currency",
    )


def _check_inverse_statement(
    stated: StatedRate, submitted: Decimal | None, choice: RateChoice
) -> None:
    """A remark rate written the other way round (``1 CNY = 0.19 SGD``): used only to check
    the submission's rate, never to convert with.

    Its reciprocal has digits the fapiao does not state (1 / 0.19 = 5.263…), and a rate taken
    the wrong way round would state the invoice at 1/28 or 28 times its value, so it is not
    inverted here: the submission's rate is used when it agrees with the statement at the
    statement's precision (``fx.conflict`` when not), and without one the conversion is
    refused (``fx.inverted``) naming the statement and what to send.
    """
    currency = choice.currency
    if submitted is None:
        raise FieldError(
            f"the fapiao's remark states the exchange rate the other way round ({stated.text!r}: "
            f"{stated.rate} {currency} per CNY); the invoice is converted at CNY per {currency}, "
            f"which the remark does not state to any precision: send `exchange_rate` (CNY per "
            f"{currency}) with the submission; it is checked against the remark",
            field=RATE_FIELDS["fapiao"],
            rule="fx.inverted",
        )
    if not rates_agree(stated.rate, Decimal(1) / submitted):
        raise FieldError(
            f"exchange rate conflict: the submission says {submitted} CNY per {currency}, the "
            f"fapiao's remark says {stated.text!r} ({stated.rate} {currency} per CNY, i.e. about "
            f"{(Decimal(1) / stated.rate).quantize(Decimal('0.0001'))} CNY per {currency}); "
            "the invoice would contradict the exporter's fapiao",
            field="metadata.exchange_rate",
            rule="fx.conflict",
        )
    choice.warnings.append(
        f"the fapiao's remark states the rate the other way round ({stated.text!r}, {currency} "
        f"per CNY); the submission's {submitted} CNY per {currency} agrees with it and is used"
    )


def _check_standing_rate(
    choice: RateChoice, partner_rate: Decimal, stated: StatedRate | None, *, corroborated: bool
) -> None:
    """Warn when the rate used differs from the partner's standing rate; beyond
    :data:`STANDING_RATE_TOLERANCE` refuse a rate nothing else vouches for (a remark rate
    naming no currency, a submission's alone: one for another currency, or inverted, is
    caught here). A rate the submission and the fapiao agree on, or one the fapiao states
    for this very currency, is the exporter's own statement: only warned about, since the
    partner's rate may be the stale one."""
    rate, source = choice.rate, choice.source or "submission"
    if rate is None or rates_agree(rate, partner_rate):
        return
    where = (
        f"the fapiao's remark ({stated.text!r})"
        if source == "fapiao" and stated
        else (f"the {source}")
    )
    if not corroborated and abs(rate - partner_rate) > STANDING_RATE_TOLERANCE * partner_rate:
        raise FieldError(
            f"exchange rate {rate} CNY per {choice.currency} from {where} differs from the "
            f"partner's standing rate {partner_rate} by more than "
            f"{STANDING_RATE_TOLERANCE:.0%}: not applied (a rate for another currency, or "
            "written the wrong way round?); correct the rate, or update the partner's "
            "exchange_rate if it is out of date",
            field=RATE_FIELDS[source],
            rule="fx.standing-rate",
        )
    choice.warnings.append(
        f"exchange rate {rate} from the {source} used; the partner's standing rate "
        f"{partner_rate} differs"
    )


def _check_plausible(rate: Decimal, currency: str, source: str) -> None:
    """Refuse a rate no currency in use has against CNY (:data:`PLAUSIBLE_RATES`)."""
    low, high = PLAUSIBLE_RATES
    if low <= rate <= high:
        return
    raise FieldError(
        f"exchange rate {rate} CNY per {currency} (from the {source}) is not a rate any "
        f"currency in use has: expected between {low} and {high} CNY per unit (a rate the "
        "wrong way round, or a misplaced decimal point?)",
        field=RATE_FIELDS[source],
        rule="fx.plausible",
    )


def round_money(value: Decimal, unit: Decimal = CENT) -> Decimal:
    """Round half up to cents (or to ``unit``: ``1`` for a currency without minor unit)."""
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def allocate(exact: Sequence[Decimal], target: Decimal, unit: Decimal = CENT) -> list[Decimal]:
    """Round each value to ``unit`` so that they sum to ``target`` (largest remainder).

    Each result stays within one unit of its exact value as long as ``target`` is within
    half a unit per value of the exact sum.
    """
    rounded = [round_money(v, unit) for v in exact]
    diff = target - sum(rounded, ZERO)
    steps = int((abs(diff) / unit).to_integral_value())
    if steps == 0 or not rounded:
        return rounded
    sign = unit if diff > 0 else -unit
    order = sorted(
        range(len(exact)),
        key=lambda i: (exact[i] - rounded[i]) * (1 if diff > 0 else -1),
        reverse=True,
    )
    for n in range(steps):
        rounded[order[n % len(order)]] += sign
    return rounded


def convert_price(
    cny_price: Decimal, rate: Decimal, quantity: Decimal, line_gross: Decimal
) -> tuple[Decimal, Decimal | None]:
    """(price, base quantity or None): as few decimals as keep the line within a cent.

    The CNY price converted at the rate comes first. The fapiao's own quantity × price may
    miss its amount by a cent (the tax bureau's tolerance) and the converted amounts are
    rounded once more, so when no such price fits, the price is the converted line amount
    (before line allowances) / quantity, which always fits with a large enough base quantity.
    """
    qty = abs(quantity) or Decimal(1)
    gross = abs(line_gross)
    fitted = _fit_price(cny_price / rate, qty, gross) or _fit_price(gross / qty, qty, gross)
    if fitted is not None:
        return fitted
    base = Decimal(1)
    while base < qty:
        base *= 10
    price = (gross / qty * base).quantize(Decimal(1).scaleb(-MAX_PRICE_DECIMALS), ROUND_HALF_UP)
    return price, (base if base != 1 else None)


def _fit_price(
    exact: Decimal, qty: Decimal, gross: Decimal
) -> tuple[Decimal, Decimal | None] | None:
    """The first (price, base) with at most :data:`MAX_PRICE_DECIMALS` decimals and a base of
    1, 10, … up to the quantity that keeps quantity × price / base within a cent of ``gross``."""
    base = Decimal(1)
    while True:
        for places in range(2, MAX_PRICE_DECIMALS + 1):
            price = (exact * base).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
            if abs(qty * price / base - gross) <= PRICE_TOLERANCE:
                return price, (base if base != 1 else None)
        if base >= qty:
            return None
        base *= 10


def convert_invoice(
    inv: Invoice,
    rate: Decimal,
    cny_gross: Decimal,
    vat_charges: Sequence[AllowanceCharge] = (),
) -> list[str]:
    """Convert a mapped CNY invoice in place; returns the warnings (:func:`fit_converted_vat`).

    ``cny_gross`` is the fapiao's total (CNY) the amount due must equal once converted.
    ``vat_charges`` are the document-level charges (and allowances) among ``inv.allowances``
    that carry the fapiao's VAT (PINT SG): they add up to the converted VAT total, the lines
    and the other allowances to the converted goods total.
    """
    t = inv.totals
    unit = amount_unit(inv.currency)
    carried = {id(a) for a in vat_charges}
    goods = [a for a in inv.allowances if id(a) not in carried]
    vat = [a for a in inv.allowances if id(a) in carried]
    vat_total = sum((_signed(a) for a in vat), ZERO)
    goods_exact = [ln.net_amount / rate for ln in inv.lines] + [_signed(a) / rate for a in goods]
    goods_values = allocate(
        goods_exact, round_money((t.tax_exclusive - vat_total) / rate, unit), unit
    )
    vat_values = allocate(
        [_signed(a) / rate for a in vat], round_money(vat_total / rate, unit), unit
    )
    for line, value in zip(inv.lines, goods_values, strict=False):
        line.net_amount = value
        for ac in line.allowances:
            ac.amount = round_money(ac.amount / rate, unit)
        gross = value + sum((a.amount for a in line.allowances if not a.is_charge), ZERO)
        gross -= sum((a.amount for a in line.allowances if a.is_charge), ZERO)
        line.price, line.base_quantity = convert_price(line.price, rate, line.quantity, gross)
        line.base_quantity_unit = line.unit_code if line.base_quantity is not None else None
    for ac, value in zip(
        [*goods, *vat], [*goods_values[len(inv.lines) :], *vat_values], strict=True
    ):
        ac.amount = abs(value)
    payable = round_money(cny_gross / rate, unit)
    net = sum(goods_values, ZERO) + sum(vat_values, ZERO)
    taxed = [b for b in inv.vat_breakdown if b.tax_amount]
    tax_target = round_money(t.tax / rate, unit)
    for b, value in zip(
        taxed, allocate([b.tax_amount / rate for b in taxed], tax_target, unit), strict=True
    ):
        b.tax_amount = value
    groups: dict[tuple[str, Decimal | None], Decimal] = {}
    for line in inv.lines:
        key = (line.vat_category, line.vat_rate)
        groups[key] = groups.get(key, ZERO) + line.net_amount
    for ac in inv.allowances:
        key = (ac.vat_category or "", ac.vat_rate)
        groups[key] = groups.get(key, ZERO) + _signed(ac)
    for b in inv.vat_breakdown:
        b.taxable_amount = groups.get((b.category, b.rate), ZERO)
    warnings = fit_converted_vat(inv.vat_breakdown, inv.currency)
    taxes = sum((b.tax_amount for b in inv.vat_breakdown), ZERO)
    allowances = sum((a.amount for a in inv.allowances if not a.is_charge), ZERO)
    charges = sum((a.amount for a in inv.allowances if a.is_charge), ZERO)
    line_net = sum((ln.net_amount for ln in inv.lines), ZERO)
    rest = payable - net - taxes
    inv.totals = Totals(
        line_net=line_net,
        tax_exclusive=net,
        tax=taxes,
        tax_inclusive=net + taxes,
        payable=payable,
        allowances=allowances if t.allowances is not None else None,
        charges=charges if t.charges is not None else None,
        rounding=rest or None,
    )
    return warnings


def fit_converted_vat(breakdown: Sequence[VatBreakdown], currency: str) -> list[str]:
    """Set each standard-rated group's converted tax (BT-117) that lies a unit or more from
    its converted base × rate to that product; the warnings saying so.

    EN 16931 BR-S-09 and BR-CO-17 allow BT-117 less than one unit of the invoice currency from
    round(BT-116 × BT-119 / 100). The fapiao's printed per-line taxes may lie up to 1.27 CNY
    from the base × rate (the tax bureau's tolerance, FORMAT.md §6), and the conversion
    multiplies that gap by 1 / rate (about 20 for JPY, 190 for KRW). The caller's amount due
    stays the converted fapiao total, so the difference becomes the rounding amount (BT-114).
    The product is rounded to the currency's unit (whole yen or won; cents otherwise).
    """
    unit = amount_unit(currency)
    warnings = []
    for b in breakdown:
        if b.category != "S" or not b.rate:
            continue
        computed = round_money(b.taxable_amount * b.rate / 100, unit)
        if abs(b.tax_amount - computed) < 1:
            continue
        warnings.append(
            f"the fapiao's VAT at {b.rate.normalize():f}% converted to {currency} is "
            f"{b.tax_amount}, a unit or more from the converted taxable amount "
            f"{b.taxable_amount} × rate = {computed} (EN 16931 BR-S-09, BR-CO-17): {computed} "
            f"stated and {b.tax_amount - computed} carried as rounding amount (BT-114); the "
            "fapiao's VAT in CNY is BT-111"
        )
        b.tax_amount = computed
    return warnings


def _signed(ac: AllowanceCharge) -> Decimal:
    """A document-level charge's amount, or an allowance's negated."""
    return ac.amount if ac.is_charge else -ac.amount
