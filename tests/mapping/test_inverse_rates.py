"""A remark rate written the other way round (so much foreign currency per CNY) is never used
to convert with, and never read as one CNY per unit.

Before: '汇率：1 CNY = 0.19 SGD' was read as a rate of 1 CNY per SGD (the ``1`` before CNY,
through the plain '汇率 <number>' form), so with no standing rate to object the 1,130.00 CNY
fapiao went out as an invoice for 1,130.00 SGD; '1 CNY = 0.19 SGD', 'CNY/USD 0.1408' and
'RMB 1 = USD 0.1408' were not read at all and the partner's standing rate was used in silence,
against the exporter's own statement; '1 RMB = 0.1408 USD' was read as 0.1408 CNY per "RMB".
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.errors import FieldError
from gateway.mapping.remark import currencies_named, read_rate
from tests.mapping.fidelity import convert, fapiao

SGD = {"currency": "SGD"}


@pytest.mark.parametrize(
    ("remark", "rate", "currency"),
    [
        ("1 CNY = 0.19 SGD", "0.19", "SGD"),
        ("汇率：1 CNY = 0.19 SGD", "0.19", "SGD"),
        ("1元=0.1887新加坡元", "0.1887", "SGD"),
        ("1人民币=0.19新币", "0.19", "SGD"),
        ("100 RMB = 14.08 USD", "0.1408", "USD"),
        ("RMB 1 = USD 0.1408", "0.1408", "USD"),
        ("1 RMB = 0.1408 USD", "0.1408", "USD"),
        ("汇率 1 RMB : 0.1408 USD", "0.1408", "USD"),
        ("人民币兑美元 1:0.1408", "0.1408", "USD"),
        ("CNY/USD 0.1408", "0.1408", "USD"),
        ("CNYSGD: 0.19", "0.19", "SGD"),
        ("汇率：0.1408（CNY/USD）", "0.1408", "USD"),
    ],
)
def test_inverse_statements_are_read_as_such(remark: str, rate: str, currency: str) -> None:
    stated = read_rate(remark)
    assert stated is not None
    assert (stated.rate, stated.currency, stated.inverse) == (Decimal(rate), currency, True)


@pytest.mark.parametrize(
    ("remark", "rate"),
    [
        ("1 SGD = 5.3 CNY", "5.3"),
        ("汇率：1 USD = 7.1234 CNY；1 CNY = 0.1404 USD", "7.1234"),
        ("汇率：7.1234（USD/CNY）", "7.1234"),
        ("美元兑人民币 1:7.1234", "7.1234"),
    ],
)
def test_a_direct_statement_is_not_inverse(remark: str, rate: str) -> None:
    stated = read_rate(remark)
    assert stated is not None and stated.rate == Decimal(rate) and not stated.inverse


@pytest.mark.parametrize("standing", [None, "5.2000"])
def test_an_inverse_remark_rate_alone_is_refused_naming_it(standing: str | None) -> None:
    partner = {**SGD, "exchange_rate": standing} if standing else SGD
    with pytest.raises(FieldError) as err:
        convert(fapiao(remark="汇率：1 CNY = 0.19 SGD"), "pint-sg", None, partner=partner)
    assert err.value.rule == "fx.inverted" and err.value.field == "fapiao.remark"
    assert "1 CNY = 0.19 SGD" in err.value.message and "exchange_rate" in err.value.message


def test_an_agreeing_submission_rate_is_used_with_an_inverse_remark() -> None:
    out = convert(
        fapiao(remark="汇率：1 CNY = 0.19 SGD"),
        "bis3",
        None,
        partner=SGD,
        metadata={"exchange_rate": "5.3"},
    )
    assert out.mapped.invoice.exchange_rate == Decimal("5.3")
    assert out.warned("other way round", "5.3")


def test_a_submission_rate_contradicting_an_inverse_remark_is_refused() -> None:
    with pytest.raises(FieldError) as err:
        convert(
            fapiao(remark="1 CNY = 0.19 SGD"),
            "bis3",
            None,
            partner=SGD,
            metadata={"exchange_rate": "0.19"},
        )
    assert err.value.rule == "fx.conflict"


def test_an_inverse_statement_for_another_currency_is_not_used() -> None:
    out = convert(
        fapiao(remark="1 CNY = 0.1408 USD"),
        "bis3",
        None,
        partner={**SGD, "exchange_rate": "5.3"},
    )
    assert out.mapped.invoice.exchange_rate == Decimal("5.3")
    assert out.warned("USD", "not used")


@pytest.mark.parametrize(
    ("remark", "named"),
    [
        ("汇率 5.3", "names no currency"),
        ("汇率：5.3；货值 USD 1,000.00，运费 SGD 50.00", "several foreign currencies (SGD, USD)"),
    ],
)
def test_a_rate_naming_no_currency_of_its_own_is_refused(remark: str, named: str) -> None:
    """The fapiao has no currency element and names a foreign currency only in its remark
    (FORMAT.md §6, §8): '汇率 5.3' with none, or with two, named there says nothing about
    whose rate it is. It was read as 5.3 CNY per unit of whatever currency the partner had,
    with a warning (a USD rate on an EUR invoice is 8 % off); it is refused, naming the
    remark and what to send."""
    with pytest.raises(FieldError) as err:
        convert(fapiao(remark=remark), "bis3", None, partner={**SGD, "exchange_rate": "5.2"})
    assert (err.value.rule, err.value.field) == ("fx.rate-currency", "fapiao.remark")
    assert named in err.value.message and "exchange_rate" in err.value.message


def test_a_rate_naming_no_currency_is_the_one_currency_the_remark_names() -> None:
    out = convert(fapiao(remark="汇率 5.3；合同金额 SGD 213.21"), "bis3", None, partner=SGD)
    assert out.mapped.invoice.exchange_rate == Decimal("5.3")
    assert out.warned("without naming its currency", "5.3 CNY per SGD")
    other = convert(
        fapiao(remark="汇率 7.1；合同金额 USD 159.15"),
        "bis3",
        None,
        partner={**SGD, "exchange_rate": "5.3"},
    )
    assert other.mapped.invoice.exchange_rate == Decimal("5.3")  # USD's rate: not used
    assert other.warned("USD", "not used")


def test_a_rate_naming_no_currency_confirmed_by_the_submission_is_used() -> None:
    out = convert(fapiao(remark="汇率 5.3"), "bis3", None, partner=SGD, metadata={
        "exchange_rate": "5.30"})  # fmt: skip
    assert out.mapped.invoice.exchange_rate == Decimal("5.30")


@pytest.mark.parametrize(
    ("remark", "rate"),
    [("汇率：1 RMB = 0.1408", "0.1408"), ("汇率 1元=0.19", "0.19"), ("汇率1人民币兑0.19", "0.19")],
)
def test_an_inverse_rate_naming_no_foreign_currency_is_not_read_as_one(
    remark: str, rate: str
) -> None:
    """'汇率：1 RMB = 0.1408' was read as 1 CNY per unit of the invoice currency (the plain
    '汇率 <number>' form took the 1 before RMB)."""
    stated = read_rate(remark)
    assert stated is not None
    assert (stated.rate, stated.currency, stated.inverse) == (Decimal(rate), None, True)
    with pytest.raises(FieldError) as err:
        convert(fapiao(remark=remark), "bis3", None, partner=SGD)
    assert err.value.rule == "fx.inverted" and remark.split("1", 1)[1][:3] in err.value.message


def test_a_price_in_yuan_outside_a_rate_statement_is_no_rate() -> None:
    assert read_rate("单价100元：5台") is None


def test_the_currencies_a_remark_names_are_codes_by_amounts_names_and_signs() -> None:
    assert currencies_named("FOB Shanghai，LTD 2026，型号 PG-40，合同 ABC20260915") == set()
    assert currencies_named("人民币 100 元；RMB 100；CNY/USD") == {"USD"}
    assert currencies_named("US$100；美元结算；8000USD；USD/CNY 7.1") == {"USD"}
    assert currencies_named("港币 100，S$ 5，€3，£ 2，EUR 10") == {"HKD", "SGD", "EUR", "GBP"}
