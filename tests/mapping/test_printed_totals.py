"""The fapiao's printed totals are the legal amounts: BT-110, BT-112 and BT-115 state them
when the lines miss them by a cent, and the conversion is refused when they miss by more; a
platform JSON line flagged tax-inclusive (hsbz 1) is taken net of its tax."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import FieldError
from gateway.ingest import parse
from gateway.samples.writers import SampleLine
from gateway.validation import Validator
from tests.mapping.fidelity import BUYER, SELLER_NAME, SELLER_USCC, convert, fapiao


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def _pump(name: str, tax: str) -> SampleLine:
    gross = f"{Decimal('50.00') + Decimal(tax):.2f}"
    return SampleLine(
        name=f"*通用设备*{name}", amount="50.00", rate="0.13", tax=tax, gross=gross,
        quantity="1", price="50",
    )  # fmt: skip


def _taxdelta(total_tax: str) -> object:
    """Line taxes 6.49 + 6.50 = 12.99, the fapiao's printed VAT ``total_tax``."""
    gross = f"{Decimal('100.00') + Decimal(total_tax):.2f}"
    return fapiao([_pump("a", "6.49"), _pump("b", "6.50")], tax=total_tax, gross=gross)


@pytest.mark.parametrize("profile", ["bis3", "pint", "cii", "pint-sg"])
def test_a_cent_between_line_taxes_and_the_printed_vat_total_is_carried(
    validator: Validator, profile: str
) -> None:
    """It went out as VAT 12.99 and amount due 112.99, beside a fapiao of 13.00 and 113.00."""
    out = convert(_taxdelta("13.00"), profile, validator)
    assert out.fatal == []
    inv = out.mapped.invoice
    assert inv.totals.payable == inv.totals.tax_inclusive == Decimal("113.00")
    if profile == "pint-sg":  # the Chinese VAT travels as NG charges
        assert sum(a.amount for a in inv.allowances if a.is_charge) == Decimal("13.00")
    else:
        assert inv.totals.tax == Decimal("13.00")
        assert sum(b.tax_amount for b in inv.vat_breakdown) == Decimal("13.00")
    assert inv.totals.rounding is None
    assert out.warned("12.99", "13.00")


@pytest.mark.parametrize("profile", ["bis3", "pint-sg"])
def test_a_larger_gap_to_the_printed_totals_is_refused(profile: str) -> None:
    with pytest.raises(FieldError) as err:
        convert(_taxdelta("13.05"), profile, None)
    assert err.value.rule == "mapping.printed-totals"
    assert err.value.field == "TotalTaxAm"
    assert "13.05" in str(err.value) and "12.99" in str(err.value)


def _platform_json(line: dict[str, str]) -> bytes:
    doc = {
        "fphm": "26312000000000000301", "kprq": "2026-11-02 11:12:13", "fppz": "02",
        "lzfpbz": "0", "xsfnsrsbh": SELLER_USCC, "xsfmc": SELLER_NAME,
        "gmfmc": BUYER, "hjje": "100.00", "hjse": "13.00", "jshj": "113.00", "kpr": "王示例",
        "fpmxList": [{
            "mxxh": 1, "hwhyslwfwmc": "*通用设备*液压泵", "dw": "台", "sl": "1",
            "dj": "113.00", "je": "113.00", "slv": "0.13", "se": "13.00", "hsbz": "1",
            "sphfwssflhbbm": "1090125010000000000", "fphxz": "00", **line,
        }],
    }  # fmt: skip
    return json.dumps(doc, ensure_ascii=False).encode()


def test_a_tax_inclusive_platform_line_is_taken_net_of_its_tax(validator: Validator) -> None:
    """hsbz 1: je 113.00 and dj 113 include the 13.00 VAT (it went out as net 113.00)."""
    (line,) = parse(_platform_json({})).invoice.lines
    assert line.net_amount == Decimal("100.00") and line.price == Decimal("100")
    assert line.gross_amount == Decimal("113.00")
    out = convert(_platform_json({}), "bis3", validator)
    assert out.fatal == []
    assert out.mapped.invoice.totals.tax_exclusive == Decimal("100.00")
    assert out.mapped.invoice.totals.payable == Decimal("113.00")


def test_a_tax_inclusive_platform_line_without_its_tax_is_refused() -> None:
    with pytest.raises(FieldError) as err:
        parse(_platform_json({"se": ""}))
    assert err.value.rule == "json.tax-inclusive"
    assert err.value.field == "fpmxList[0].se"  # the first line: JSON counts from 0


@pytest.mark.parametrize("profile", ["bis3", "cii"])
def test_a_vat_total_en16931_cannot_state_is_told_to_the_buyer(
    validator: Validator, profile: str
) -> None:
    """210 lines of 0.50 at 13 %, each taxed 0.07 (0.065 rounded half up): the fapiao's VAT is
    14.70, within the tax bureau's 1.27 of 105.00 × 13 % = 13.65, but beyond BR-S-09's one
    unit. The invoice states 13.65 and carries 1.05 as BT-114; its note says the fapiao's VAT
    total and why, so the buyer does not book VAT the seller never declared unawares."""
    washer = {"amount": "0.50", "rate": "0.13", "tax": "0.07", "gross": "0.57", "price": "0.5"}
    lines = [SampleLine(name=f"*通用设备*垫圈{n}", quantity="1", **washer) for n in range(210)]
    out = convert(fapiao(lines), profile, validator)
    assert out.fatal == []
    inv = out.mapped.invoice
    assert (inv.totals.tax, inv.totals.rounding, inv.totals.payable) == (
        Decimal("13.65"),
        Decimal("1.05"),
        Decimal("119.70"),
    )
    (note,) = inv.notes
    assert "VAT total on the fapiao (合计税额): 14.70 CNY" in note
    assert "states 13.65" in note and "BT-114" in note and "119.70" in note


def _six_decimal_taxes() -> object:
    """Two lines whose 税额 is printed with six decimals, not all zeros (FORMAT.md §2.1, §6):
    13.006500 at 13 % and 6.003000 at 6 %; the fapiao's VAT total is 19.01."""
    lines = [
        SampleLine(
            name="*通用设备*水泵", amount="100.05", rate="0.13", tax="13.006500",
            gross="113.056500", quantity="1", price="100.05",
        ),
        SampleLine(
            name="*信息技术服务*安装调试", amount="100.05", rate="0.06", tax="6.003000",
            gross="106.053000", quantity="1", price="100.05",
        ),
    ]  # fmt: skip
    return fapiao(lines, tax="19.01", gross="219.11")


@pytest.mark.parametrize("profile", ["pint-sg", "bis3", "pint", "cii", "bis3-cii"])
def test_line_taxes_printed_with_six_decimals_are_stated_per_rate_in_cents(
    validator: Validator, profile: str
) -> None:
    """The gap to the printed total was taken from the unrounded line taxes (−0.0005) and
    added to a VAT group or a PINT SG charge: BR-DEC-20 / ibr-122, BR-CO-14/15 failed."""
    out = convert(_six_decimal_taxes(), profile, validator)
    assert out.fatal == []
    t = out.mapped.invoice.totals
    assert (t.payable, t.rounding) == (Decimal("219.11"), None)
    if profile == "pint-sg":
        charges = sorted(a.amount for a in out.mapped.invoice.allowances if a.is_charge)
        assert charges == [Decimal("6.00"), Decimal("13.01")]
    else:
        taxes = sorted(b.tax_amount for b in out.mapped.invoice.vat_breakdown)
        assert taxes == [Decimal("6.00"), Decimal("13.01")]
        assert t.tax == Decimal("19.01")


@pytest.mark.parametrize("profile", ["pint-sg", "bis3", "cii"])
def test_a_total_or_line_amount_below_the_fen_is_refused_naming_it(profile: str) -> None:
    """A printed total or 金额 with three decimals went through to BT-109 … BT-115 or BT-131
    and the document failed BR-DEC-*; a legal amount is not rounded, it is refused."""
    line = SampleLine(
        name="*通用设备*水泵", amount="100.10", rate="0.13", tax="13.013", gross="113.113",
        quantity="1", price="100.10",
    )  # fmt: skip
    with pytest.raises(FieldError) as err:
        convert(fapiao([line], tax="13.013", gross="113.113"), profile, None)
    assert (err.value.field, err.value.rule) == ("TotalTaxAm", "BR-DEC-13")
    line = SampleLine(
        name="*通用设备*水泵", amount="100.125", rate="0.13", tax="13.02", gross="113.145",
        quantity="1", price="100.125",
    )  # fmt: skip
    with pytest.raises(FieldError) as err:
        convert(fapiao([line], net="100.12", gross="113.14"), profile, None)
    assert (err.value.field, err.value.rule) == ("lines[1].net_amount", "BR-DEC-23")


@pytest.mark.parametrize("profile", ["bis3", "pint", "cii"])
@pytest.mark.parametrize(("rate", "tax"), [("0.5", "0.50"), ("0.13", "0.13")])
def test_vat_beyond_the_tax_bureaus_tolerance_is_refused_not_rounded(
    profile: str, rate: str, tax: str
) -> None:
    """A rate of 0.5 (a fraction: 50 %, where the 0.5 % reduced levy is 0.005) on 100.00
    with a printed tax of 0.50 went out as VAT 50.00 with a rounding amount (BT-114) of
    -49.50, valid to every rule and 49.50 away from the fapiao's VAT. No issued fapiao is
    more than 1.27 from its rates (FORMAT.md §6): refused, naming the line."""
    gross = f"{Decimal('100.00') + Decimal(tax):.2f}"
    line = SampleLine("*机械设备*数控机床", "100.00", rate, tax, gross, unit="台",
                      quantity="1", price="100")  # fmt: skip
    with pytest.raises(FieldError) as err:
        convert(fapiao([line]), profile, None)
    assert (err.value.rule, err.value.field) == ("mapping.vat-rate-gap", "TaxRate")
    assert "line 1" in err.value.message and f"printed tax {tax}" in err.value.message
