"""A fapiao invoiced in another currency: the VAT, net and gross each are the fapiao's printed
CNY figure divided by the rate and rounded once (seeded, property-style).

Before, the VAT total (BT-110; PINT SG: the Chinese-VAT charges) was whatever was left of the
converted amount due after the converted net, so in about a third of the cases it lay a cent
from the fapiao's VAT ÷ rate: 10.005 + 1.005 rounded once is 11.01, but 10.01 + 1.01 = 11.02.
The cent between net + VAT and the amount due now is the rounding amount (BT-114).
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from gateway.model.currencies import amount_unit
from gateway.samples.writers import SampleInvoice, SampleLine
from gateway.validation import Validator
from tests.mapping.fidelity import convert, fapiao, machine_line

CENT = Decimal("0.01")
RATES = ("0.13", "0.09", "0.06", "0.03", "0.01")
CURRENCIES = {"USD": "7.1", "SGD": "5.3", "EUR": "7.7", "JPY": "0.047", "HKD": "0.91"}
PROFILES = ("bis3", "pint", "cii", "bis3-cii", "pint-sg")


def _round(value: Decimal, currency: str = "CNY") -> Decimal:
    """Half up to the currency's unit (whole yen or won, cents otherwise)."""
    return value.quantize(amount_unit(currency), ROUND_HALF_UP)


def _case(rnd: random.Random) -> tuple[SampleInvoice, str, Decimal]:
    """A fapiao of one to four lines at Chinese rates, its currency and a rate near the real one."""
    lines = []
    for _ in range(rnd.randint(1, 4)):
        rate = rnd.choice(RATES)
        qty = rnd.randint(1, 50)
        price = Decimal(rnd.randint(1, 2_000_000)) / 100
        amount = _round(qty * price)
        tax = _round(amount * Decimal(rate))
        lines.append(
            SampleLine(
                name="*机械设备*数控机床",
                amount=f"{amount:.2f}",
                rate=rate,
                tax=f"{tax:.2f}",
                gross=f"{amount + tax:.2f}",
                unit="台",
                quantity=str(qty),
                price=f"{price}",
            )
        )
    currency = rnd.choice(sorted(CURRENCIES))
    fx = Decimal(CURRENCIES[currency]) * Decimal(rnd.uniform(0.95, 1.05))
    return fapiao(lines), currency, fx.quantize(Decimal("0.0001"))


def _cases(seed: int, count: int) -> list[tuple[SampleInvoice, str, Decimal]]:
    rnd = random.Random(seed)
    return [_case(rnd) for _ in range(count)]


def _check(inv: SampleInvoice, profile: str, currency: str, fx: Decimal, mapped: object) -> None:
    from gateway.mapping import MappedDocument

    assert isinstance(mapped, MappedDocument)
    out = mapped.invoice
    t = out.totals
    net, vat, gross = Decimal(inv.net), Decimal(inv.tax), Decimal(inv.gross)
    unit = amount_unit(currency)
    fitted = [
        b
        for b in out.vat_breakdown
        if any(f"{b.rate.normalize():f}%" in w for w in mapped.warnings)
    ]
    assert t.payable == _round(gross / fx, currency)
    assert abs(t.rounding or 0) <= unit * (1 + 2 * len(fitted))
    assert t.payable == t.tax_inclusive + (t.rounding or 0)
    if profile == "pint-sg":
        charges = [a.amount for a in out.allowances if a.is_charge]
        assert sum(charges) == _round(vat / fx, currency), (charges, vat, fx)
        assert t.tax_exclusive - sum(charges) == _round(net / fx, currency)
        by_rate: dict[str, Decimal] = {}
        for line in inv.lines:
            by_rate[line.rate or ""] = by_rate.get(line.rate or "", Decimal(0)) + Decimal(
                line.tax or "0"
            )
        exact = [tax / fx for _, tax in sorted(by_rate.items(), key=lambda kv: Decimal(kv[0]))]
        assert all(abs(c - e) < unit for c, e in zip(charges, exact, strict=True))
    elif fitted:
        # whole yen or won: a group a unit from its base × rate states the product (BR-S-09)
        assert all(b.tax_amount == _round(b.taxable_amount * b.rate / 100, currency)
                   for b in fitted)  # fmt: skip
        assert t.tax_exclusive == _round(net / fx, currency)
    else:
        assert t.tax == _round(vat / fx, currency), (t.tax, vat, fx)
        assert t.tax_exclusive == _round(net / fx, currency)
        assert t.tax_in_accounting_currency == vat


@pytest.mark.parametrize("profile", PROFILES)
def test_converted_vat_is_the_fapiaos_vat_divided_by_the_rate(profile: str) -> None:
    for inv, currency, fx in _cases(20261206, 120):
        out = convert(inv, profile, None, partner={"currency": currency, "exchange_rate": str(fx)})
        _check(inv, profile, currency, fx, out.mapped)


def test_a_known_case_was_a_cent_off() -> None:
    """Net 15.01 and VAT 1.95 (13 %) at 2 CNY per unit: 7.505 and 0.975 round to 7.51 and
    0.98, the gross 16.96 to 8.48; the VAT was 8.48 − 7.51 = 0.97."""
    line = SampleLine(
        name="*机械设备*数控机床",
        amount="15.01",
        rate="0.13",
        tax="1.95",
        gross="16.96",
        unit="台",
        quantity="1",
        price="15.01",
    )
    out = convert(fapiao([line]), "bis3", None, partner={"currency": "USD", "exchange_rate": "2"})
    t = out.mapped.invoice.totals
    assert (t.tax_exclusive, t.tax, t.payable) == (
        Decimal("7.51"),
        Decimal("0.98"),
        Decimal("8.48"),
    )
    assert t.rounding == Decimal("-0.01")


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


@pytest.mark.parametrize("profile", PROFILES)
def test_converted_invoices_pass_the_official_rules(validator: Validator, profile: str) -> None:
    for inv, currency, fx in _cases(7, 6):
        out = convert(
            inv, profile, validator, partner={"currency": currency, "exchange_rate": str(fx)}
        )
        assert out.fatal == [], (currency, fx, out.fatal)
        _check(inv, profile, currency, fx, out.mapped)


def _kitchen_lines(count: int) -> list[SampleLine]:
    """``count`` lines of 10.05 CNY at 13 %, each VAT printed as 1.31 (1.3065 rounded): the
    printed VAT lies 0.0035 CNY per line above the base × rate, as the tax bureau allows."""
    return [
        SampleLine(
            name=f"*厨房用具*餐具{n}",
            amount="10.05",
            rate="0.13",
            tax="1.31",
            gross="11.36",
            unit="套",
            quantity="1",
            price="10.05",
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(("currency", "fx", "count"), [("KRW", "0.0052", 2), ("JPY", "0.048", 40)])
@pytest.mark.parametrize("profile", ["bis3", "cii", "bis3-cii"])
def test_a_vat_gap_the_rate_magnifies_stays_within_br_s_09(
    validator: Validator, profile: str, currency: str, fx: str, count: int
) -> None:
    """EN 16931 BR-S-09 / BR-CO-17: BT-117 less than one unit from BT-116 × rate. Two KRW lines
    whose printed VAT is 0.007 CNY above base × rate are 1.35 won above it once converted; the
    converted printed VAT was stated and both rules failed. Now the group states its converted
    base × rate, the difference is the rounding amount and the amount due is unchanged."""
    inv = fapiao(_kitchen_lines(count))
    out = convert(inv, profile, validator, partner={"currency": currency, "exchange_rate": fx})
    assert out.fatal == []
    t = out.mapped.invoice.totals
    (group,) = out.mapped.invoice.vat_breakdown
    assert group.tax_amount == _round(group.taxable_amount * Decimal("0.13"), currency)
    assert t.payable == _round(Decimal(inv.gross) / Decimal(fx), currency)
    assert t.payable == t.tax_inclusive + (t.rounding or 0)
    assert t.tax_in_accounting_currency == Decimal(inv.tax)
    assert out.warned("BR-S-09", "rounding amount (BT-114)")


def _rice(amount: str, tax: str, qty: str | None = None) -> SampleLine:
    return SampleLine(name="*农产品*大米", amount=amount, rate="0.01", tax=tax,
                      unit="吨" if qty else None, quantity=qty, price=amount if qty else None)  # fmt: skip


@pytest.mark.parametrize("profile", ["bis3", "bis3-cii", "cii", "pint"])
def test_a_converted_vat_total_of_another_sign_states_no_cny_vat(
    validator: Validator, profile: str
) -> None:
    """An IDR invoice whose 1 % group a discount makes negative: the fapiao's VAT adds up to
    0.00 CNY, but the 1 % group's printed VAT lies 11 rupiah from its converted base × rate
    and states the product (BR-S-09), so the converted VAT total is -11.11 IDR. BT-111 said
    0.00 CNY: PEPPOL-EN16931-R055 (same sign) failed in bis3-cii, whose CII form counts zero
    as positive, and passed in UBL, whose form counts it as either. BT-6 / BT-111 are now
    left out in every syntax, with a warning; the note keeps the fapiao's CNY totals."""
    lines = [
        machine_line(amount="5000.00", rate="0", tax="0.00", gross="5000.00", quantity="1",
                     price="5000"),
        machine_line(amount="100.00", tax="13.00", gross="113.00", quantity="1", price="100"),
        _rice("500.00", "5.00", "1"),
        _rice("-1800.50", "-18.00"),
    ]  # fmt: skip
    out = convert(
        fapiao(lines), profile, validator, partner={"currency": "IDR", "exchange_rate": "0.00045"}
    )
    assert out.fatal == []
    inv = out.mapped.invoice
    assert inv.totals.tax == Decimal("-11.11") and inv.totals.rounding == Decimal("11.11")
    assert inv.tax_currency is None and inv.totals.tax_in_accounting_currency is None
    assert b'currencyID="CNY"' not in out.xml and b"TaxCurrencyCode" not in out.xml
    assert out.warned("PEPPOL-EN16931-R055", "0.00 CNY", "-11.11 IDR")
    assert any("VAT 0.00" in note for note in inv.notes)
