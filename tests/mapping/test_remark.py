"""The 备注 reader: exchange-rate statements and references in the forms exporters write."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from gateway.mapping.currency import allocate, rates_agree
from gateway.mapping.remark import read_rate, read_remark


@pytest.mark.parametrize(
    ("remark", "rate", "currency"),
    [
        ("汇率：1 USD = 7.1234 CNY", "7.1234", "USD"),
        ("汇率:1USD=7.1234RMB 报关单号:223320260001234567", "7.1234", "USD"),
        ("100美元=712.34人民币", "7.1234", "USD"),
        ("USD/CNY 7.1012", "7.1012", "USD"),
        ("USDCNY: 7.1012", "7.1012", "USD"),
        ("1 新加坡元 = 5.35 元", "5.35", "SGD"),
        ("exchange rate: 7.12", "7.12", None),
        ("汇率 7.0500", "7.0500", None),
        ("汇率：USD 1 = CNY 7.1234", "7.1234", "USD"),
        ("1美元兑7.1234元", "7.1234", "USD"),
        ("美元汇率：7.1234", "7.1234", "USD"),
        ("汇率：7.1234（USD/CNY）", "7.1234", "USD"),
        ("按中国人民银行中间价 1 HKD = 0.9125 CNY 折算", "0.9125", "HKD"),
        ("汇率1:7.1234", "7.1234", None),
        ("合同号：HT-2026-001 汇率 1：7.1234", "7.1234", None),
        ("汇率 100:712.34", "7.1234", None),
        ("汇率7.12345678元", "7.12345678", None),
        ("汇率：7.1234 人民币", "7.1234", None),
        ("美元汇率 1:7.1234", "7.1234", "USD"),
        ("USD/CNY 100:712.34", "7.1234", "USD"),
        ("美元兑人民币 1:7.1234", "7.1234", "USD"),
    ],
)
def test_rate_forms(remark: str, rate: str, currency: str | None) -> None:
    stated = read_rate(remark)
    assert stated is not None
    assert (stated.rate, stated.currency) == (Decimal(rate), currency)


@pytest.mark.parametrize("remark", ["", "FOB Shanghai", "汇率按合同约定", "1 CNY = 1 CNY"])
def test_no_rate(remark: str) -> None:
    assert read_rate(remark) is None


@pytest.mark.parametrize(
    "remark", ["汇率 7.1234:1", "汇率：7.1234 USD", "汇率 7.1234美元", "港币汇率 0.91:1"]
)
def test_a_rate_is_read_whole_or_not_at_all(remark: str) -> None:
    """'汇率 1:7.1234' was read as a rate of 1 CNY per unit ('港币汇率 0.91:1' as 0.91 HKD), and
    '汇率：7.1234 USD' as 7.123 (the pattern gave back digits until what followed was no
    letter): a ratio whose first term is not 1, 10, 100 … and a number followed by a foreign
    currency's name are not read."""
    assert read_rate(remark) is None


@pytest.mark.parametrize(
    "remark",
    ["汇率：7.1234 EUR", "exchange rate 7.1234 per USD", "汇率 0.9125 港币"],
)
def test_a_plain_rate_is_never_read_cut_short(remark: str) -> None:
    """A number followed by words other than CNY's is no plain rate; it was read one digit
    short instead (``汇率：7.1234 EUR`` as 7.123 with no currency)."""
    assert read_rate(remark) is None


@pytest.mark.parametrize(
    "remark",
    [
        "1" * 50_000,
        " " * 50_000,
        "汇率" + " " * 50_000,
        "Contract" + " " * 50_000,
        "USD" + " " * 50_000,
        "1.5" * 20_000,
        "合同" + "a-" * 25_000,
        "PO " * 20_000,
    ],
)
def test_any_remark_is_read_in_linear_time(remark: str) -> None:
    """A remark is free text from outside (a fapiao's 备注, a platform JSON's ``bz``): runs of
    digits or blanks made the forms backtrack at every split, 8,000 digits took seconds and
    the 100,001 digits of a JSON ``1E+100000`` never finished."""
    started = time.perf_counter()
    read_remark(remark)
    # A hang guard, not a speed claim: the backtracking forms took minutes on these inputs.
    assert time.perf_counter() - started < 30


def test_references() -> None:
    facts = read_remark(
        "Contract No. LG-2026-001；项目：临港一期；PO#4500012345；出口报关单号：223320260001234567，"
        "报关单号 223320260001234568"
    )
    assert (facts.contract, facts.project, facts.order) == ("LG-2026-001", "临港一期", "4500012345")
    assert facts.customs_declarations == ["223320260001234567", "223320260001234568"]


def test_words_are_not_references() -> None:
    facts = read_remark("as per contract terms, order no. pending, POLICY 12")
    assert (facts.contract, facts.order) == (None, None)


def test_rates_agree_at_the_stated_precision() -> None:
    assert rates_agree(Decimal("7.1234"), Decimal("7.12"))
    assert not rates_agree(Decimal("7.1234"), Decimal("7.0000"))
    assert not rates_agree(Decimal("7.1234"), Decimal("7.13"))


def test_allocation_keeps_the_rounded_sum() -> None:
    exact = [Decimal(1) / 3] * 3
    assert allocate(exact, Decimal("1.00")) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert sum(allocate([Decimal("-0.005"), Decimal("2.005")], Decimal("2.00"))) == 2


@pytest.mark.parametrize(
    ("remark", "currency", "rate"),
    [
        ("美元汇率：7.1023；欧元汇率：7.7012", "EUR", "7.7012"),
        ("USD/CNY 7.1023, EUR/CNY 7.7012", "EUR", "7.7012"),
        ("1 EUR = 7.7012 CNY; 1 USD = 7.1023 CNY", "USD", "7.1023"),
        ("1 USD = 7.1023 CNY; 1 CNY = 0.1298 EUR", "EUR", "0.1298"),
    ],
)
def test_a_remark_listing_several_currencies_gives_the_invoice_currencys_rate(
    remark: str, currency: str, rate: str
) -> None:
    """read_rate takes the first statement; an exporter listing the day's rates of several
    currencies had its EUR invoice refused ("state it in the fapiao's remark (汇率：1 EUR = x
    CNY)", which the remark did) because the USD rate came first."""
    found = {r.currency: r for r in read_remark(remark).currency_rates}
    assert found[currency].rate == Decimal(rate)


def test_an_invoice_in_the_second_listed_currency_is_converted_at_its_rate() -> None:
    from tests.mapping.fidelity import convert, fapiao

    out = convert(fapiao(remark="美元汇率：7.1023；欧元汇率：7.7012"), "bis3", None,
                  partner={"currency": "EUR"})  # fmt: skip
    assert out.mapped.invoice.exchange_rate == Decimal("7.7012")
    assert out.mapped.invoice.currency == "EUR"
