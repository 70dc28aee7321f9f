"""Line arithmetic (EN 16931 BT-131 = BT-129 × BT-146 / BT-149 − BT-136 + BT-141) for every
profile: discounts folded onto lines printed without quantity and unit price, unit prices
printed with VAT, and lines whose figures do not agree."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import FieldError
from gateway.ingest import parse
from gateway.mapping.currency import convert_price
from gateway.samples.writers import SampleLine, einvoice_xml, platform_json
from gateway.validation import Validator
from tests.mapping.fidelity import convert, fapiao, machine_line

PROFILES = ["bis3", "pint-sg", "pint", "cii", "bis3-cii"]


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def _service(amount: str, tax: str, **kw: str | None) -> SampleLine:
    """A 6 % consulting line, by default printed without quantity and unit price."""
    gross = f"{Decimal(amount) + Decimal(tax):.2f}"
    return SampleLine(
        name="*信息技术服务*咨询服务费", amount=amount, rate="0.06", tax=tax, gross=gross, **kw
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_a_discount_folded_onto_a_line_without_quantity_keeps_the_gross_price(
    validator: Validator, profile: str
) -> None:
    """10,000.00 less a 500.00 discount line: 1 × 10,000 − 500 = 9,500 (it was 1 × 9,500 −
    500 ≠ 9,500, PEPPOL-EN16931-R120 in BIS 3, R120-SG in PINT SG, accepted by PINT and CII)."""
    inv = fapiao([_service("10000.00", "600.00"), _service("-500.00", "-30.00")])
    out = convert(inv, profile, validator)
    assert out.fatal == []
    (line,) = out.mapped.invoice.lines
    assert line.quantity == 1 and line.price == Decimal("10000.00")
    assert [a.amount for a in line.allowances] == [Decimal("500.00")]
    assert line.net_amount == Decimal("9500.00")


def _pump(*, price: str) -> SampleLine:
    """Ten pumps, net 1,000.00 at 13% (gross 1,130.00), at the unit price ``price``."""
    return SampleLine(
        name="*通用设备*液压泵",
        amount="1000.00",
        rate="0.13",
        tax="130.00",
        gross="1130.00",
        unit="台",
        quantity="10",
        price=price,
    )


@pytest.mark.parametrize("profile", ["bis3", "pint"])
def test_a_tax_inclusive_unit_price_becomes_the_net_price(
    validator: Validator, profile: str
) -> None:
    """Quantity 10 × 113 is the line's gross 1,130.00, not its net 1,000.00: 113 includes the
    13 % VAT, so the net price 100 is sent and the change is a warning naming the line."""
    line = _pump(price="113")
    out = convert(fapiao([line]), profile, validator)
    assert out.fatal == []
    (ln,) = out.mapped.invoice.lines
    assert ln.quantity == 10 and ln.price == Decimal("100")
    assert out.warned("line 1", "113", "includes VAT", "100")


@pytest.mark.parametrize("profile", PROFILES)
def test_a_line_whose_quantity_price_and_amount_disagree_is_refused(profile: str) -> None:
    """10 × 150 is neither the net 1,000.00 nor the gross 1,130.00: refused naming the line,
    for every profile (PINT and CII rules do not check it)."""
    line = _pump(price="150")
    with pytest.raises(FieldError) as err:
        convert(fapiao([line]), profile, None)
    assert err.value.rule == "mapping.line-arithmetic"
    assert err.value.field == "lines[1].price"
    assert "line 1" in str(err.value) and "1000.00" in str(err.value)


@pytest.mark.parametrize(
    ("qty", "cny_price", "gross"),
    [
        ("893", "35.98", "4510.49"),
        ("575", "232.57", "18773.04"),
        ("188", "584.11", "15415.75"),
        ("810", "777.9", "88454.80"),
        ("246", "25.97", "896.86"),
    ],
)
def test_a_converted_price_keeps_the_line_within_a_cent(
    qty: str, cny_price: str, gross: str
) -> None:
    """The fapiao's quantity × price may miss its amount by a cent and the converted net and
    allowance are rounded once more: the CNY price converted at the rate then missed the
    converted line by up to 0.018 (the mapper's line check refused such an invoice); the
    price now comes from the converted amount when the rate's price does not fit."""
    price, base = convert_price(Decimal(cny_price), Decimal("7.1234"), Decimal(qty), Decimal(gross))
    assert abs(Decimal(qty) * price / (base or 1) - Decimal(gross)) <= Decimal("0.01")
    assert -price.as_tuple().exponent <= 6  # type: ignore[operator]


THIRD = "0.33333333333333333333333"  # 25 characters, 23 decimals


@pytest.mark.parametrize("source", ["xml", "json"])
@pytest.mark.parametrize(
    ("quantity", "price"), [(THIRD, "3000"), ("3", "333.333333333333333333333")]
)
def test_a_quantity_or_price_of_25_characters_is_read_as_printed(
    validator: Validator, source: str, quantity: str, price: str
) -> None:
    """FORMAT.md §2.1: 数量 and 单价 are decimal strings of up to 25 characters (varchar(25)),
    so a third of a tonne may be printed with 23 decimals. Beyond 20 decimals the value was
    "not a number; ignored": the quantity became the amount ÷ price (8 decimals) and, with
    both too long, the line 1 × amount. Both are now read exactly and go out as printed
    (UBL and CII quantities and prices have no decimal limit; the line stays 1,000.00)."""
    inv = fapiao([machine_line(quantity=quantity, price=price)])
    data = einvoice_xml(inv) if source == "xml" else platform_json(inv)
    for profile in PROFILES:
        out = convert(data, profile, validator)
        assert out.fatal == []
        (line,) = out.mapped.invoice.lines
        assert (line.quantity, line.price) == (Decimal(quantity), Decimal(price)), profile
        assert line.net_amount == Decimal("1000.00")
        assert quantity in out.xml.decode() and price in out.xml.decode()
    assert "fapiao.number" not in {w.code for w in parse(data).warnings}


@pytest.mark.parametrize("source", ["xml", "json"])
def test_a_quantity_longer_than_the_format_allows_is_refused_naming_the_line(source: str) -> None:
    """26 characters and more is no value an issued fapiao prints (varchar(25)): refused,
    naming the line's quantity field, where it was silently replaced before."""
    inv = fapiao([machine_line(), machine_line(quantity=THIRD + "3", price="3000")])
    data = einvoice_xml(inv) if source == "xml" else platform_json(inv)
    with pytest.raises(FieldError) as caught:
        parse(data)
    assert caught.value.rule == "fapiao.number-length"
    field = caught.value.field or ""
    assert field in ("EInvoiceData/IssuItemInformation[2]/Quantity", "fpmxList[1].sl")
    assert "26 characters" in caught.value.message
