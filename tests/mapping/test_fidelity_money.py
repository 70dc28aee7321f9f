"""Issue 10, items 1-3: the rate of this invoice, exact converted totals, references the buyer
routes by, and where (and whether) the buyer pays."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import FieldError, MissingFactError
from gateway.mapping.currency import rates_agree
from gateway.model.currencies import amount_unit
from gateway.samples.writers import SampleInvoice, SampleLine
from gateway.validation import Validator
from tests.mapping.fidelity import NS, SELLER_NAME, convert, fapiao, machine_line

CENT = Decimal("0.01")
USD = {"currency": "USD"}


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def _due(gross: str, rate: str, currency: str = "USD") -> Decimal:
    """The converted amount due, in whole units for a currency without minor unit."""
    return (Decimal(gross) / Decimal(rate)).quantize(amount_unit(currency), ROUND_HALF_UP)


# 1. exchange rate -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "cii", "bis3-cii", "pint"])
def test_the_rate_printed_in_the_remark_is_the_rate_used(
    validator: Validator, profile: str
) -> None:
    inv = fapiao(remark="汇率：1 USD = 7.1234 CNY；FOB Shanghai")
    out = convert(inv, profile, validator, partner={**USD, "exchange_rate": "7.0000"})
    assert out.fatal == []
    assert out.mapped.invoice.exchange_rate == Decimal("7.1234")
    assert out.mapped.invoice.totals.payable == _due("1130.00", "7.1234")
    assert out.warned("7.1234", "7.0000")  # the partner's standing rate differs


@pytest.mark.parametrize(
    ("remark", "standing"),
    [
        ("汇率1:7.1234；货值 USD 158.63", None),
        ("合同号：HT-2026-001 汇率 1：7.1234 货值USD158.63", None),
        ("美元汇率 1:7.1234", "7.1000"),
    ],
)
def test_a_rate_written_as_a_ratio_is_the_cny_per_unit(
    validator: Validator, remark: str, standing: str | None
) -> None:
    """'汇率1:7.1234' was read as a rate of 1: the 1,130.00 CNY fapiao went out as an invoice
    for 1,130.00 USD, without a word, when no standing rate was there to object; '美元汇率
    1:7.1234' names the currency, so even a standing rate of 7.1 only drew a warning."""
    partner = {**USD, "exchange_rate": standing} if standing else USD
    out = convert(fapiao(remark=remark), "bis3", validator, partner=partner)
    assert out.fatal == []
    assert out.mapped.invoice.exchange_rate == Decimal("7.1234")
    assert out.mapped.invoice.totals.payable == _due("1130.00", "7.1234") == Decimal("158.63")


def test_the_submission_rate_wins_and_agrees_with_the_fapiao_at_its_precision(
    validator: Validator,
) -> None:
    inv = fapiao(remark="汇率：1 USD = 7.1234 CNY")
    out = convert(inv, "bis3", validator, partner=USD, metadata={"exchange_rate": "7.12340"})
    assert out.fatal == [] and out.mapped.invoice.exchange_rate == Decimal("7.12340")
    coarse = convert(inv, "bis3", None, partner=USD, metadata={"exchange_rate": "7.12"})
    assert coarse.mapped.invoice.exchange_rate == Decimal("7.1234")
    assert coarse.warned("7.1234", "7.12", "more decimals")


@pytest.mark.parametrize(
    ("remark", "sent", "used"),
    [
        ("汇率：1 USD = 7.4999 CNY", "7", "7.4999"),
        ("汇率：100日元=4.76人民币", "0.05", "0.0476"),
    ],
)
def test_of_two_agreeing_rates_the_more_precise_is_used(remark: str, sent: str, used: str) -> None:
    """7 "agreed" with 7.4999 (equal at whole units) and the submission's 7 was used: 7 % off
    the fapiao's own rate. The rate with more decimals is used now, whichever source gave it."""
    currency = "JPY" if "日元" in remark else "USD"
    out = convert(
        fapiao(remark=remark),
        "bis3",
        None,
        partner={"currency": currency},
        metadata={"exchange_rate": sent},
    )
    assert out.mapped.invoice.exchange_rate == Decimal(used)
    assert out.mapped.invoice.totals.payable == _due("1130.00", used, currency)
    assert out.warned(used, sent)


def test_rates_agree_only_within_the_rounding_of_the_less_precise() -> None:
    assert rates_agree(Decimal("7"), Decimal("7.4999"))
    assert not rates_agree(Decimal("7"), Decimal("7.5"))
    assert rates_agree(Decimal("7.12"), Decimal("7.1234"))
    assert not rates_agree(Decimal("7.12"), Decimal("7.1250"))
    assert rates_agree(Decimal("7.1234"), Decimal("7.12"))  # either order


@pytest.mark.parametrize(
    ("remark", "partner"),
    [
        # the rate names no currency; the remark names HKD only: read as HKD's
        ("汇率：7.1012；合同金额 HKD 10,000.00", {"currency": "HKD", "exchange_rate": "0.9125"}),
        ("汇率：0.1408；FOB USD 20,000.00", {**USD, "exchange_rate": "7.1234"}),  # inverted
    ],
)
def test_a_remark_rate_far_from_the_standing_rate_is_refused_naming_both(
    remark: str, partner: dict[str, str]
) -> None:
    with pytest.raises(FieldError) as err:
        convert(fapiao(remark=remark), "pint", None, partner=partner)
    assert err.value.rule == "fx.standing-rate" and err.value.field == "fapiao.remark"
    assert partner["exchange_rate"] in str(err.value)
    assert remark.removeprefix("汇率：").split("；")[0] in str(err.value)
    assert "10%" in str(err.value)


def test_a_submission_rate_far_from_the_standing_rate_is_refused() -> None:
    with pytest.raises(FieldError) as err:
        convert(
            fapiao(),
            "bis3",
            None,
            partner={**USD, "exchange_rate": "7.1234"},
            metadata={"exchange_rate": "0.1408"},
        )
    assert err.value.rule == "fx.standing-rate"
    assert err.value.field == "metadata.exchange_rate"


@pytest.mark.parametrize(
    ("remark", "metadata"),
    [
        ("汇率：1 USD = 7.4999 CNY", {"exchange_rate": "7.4999"}),
        ("汇率：1 USD = 7.4999 CNY", {}),
    ],
)
def test_the_exporters_own_rate_is_used_though_the_standing_one_is_stale(
    remark: str, metadata: dict[str, str]
) -> None:
    """A rate the submission and the fapiao agree on, or one the fapiao states for this very
    currency, is the exporter's: a standing rate more than 10 % away is only warned about."""
    out = convert(
        fapiao(remark=remark), "bis3", None, partner={**USD, "exchange_rate": "6.5"},
        metadata=metadata,
    )  # fmt: skip
    assert out.warned("7.4999", "6.5")


def test_a_submission_rate_that_contradicts_the_fapiao_is_refused() -> None:
    inv = fapiao(remark="汇率：1 USD = 7.1234 CNY")
    with pytest.raises(FieldError) as err:
        convert(inv, "bis3", None, partner=USD, metadata={"exchange_rate": "7.20"})
    assert err.value.rule == "fx.conflict" and err.value.field == "metadata.exchange_rate"
    assert "7.1234" in str(err.value)


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"metadata": {"exchange_rate": "0.00000000001"}}, "metadata.exchange_rate"),
        ({"metadata": {"exchange_rate": "999999999999.999"}}, "metadata.exchange_rate"),
        ({"partner": {**USD, "exchange_rate": "0.000001"}}, "partners.exchange_rate"),
        ({"remark": "汇率：1 USD = 71234 CNY"}, "fapiao.remark"),
    ],
)
def test_a_rate_no_currency_has_is_refused_naming_its_source(
    source: dict[str, Any], field: str
) -> None:
    """Such a rate once made a signed invoice of 212,000,000,000.00 USD from 2,120 CNY."""
    inv = fapiao(remark=source.get("remark", ""))
    with pytest.raises(FieldError) as err:
        convert(
            inv,
            "bis3",
            None,
            partner=source.get("partner", USD),
            metadata=source.get("metadata", {}),
        )
    assert err.value.rule == "fx.plausible" and err.value.field == field, err.value


def test_a_rate_stated_for_another_currency_is_not_used() -> None:
    inv = fapiao(remark="汇率：1 EUR = 7.8000 CNY")
    out = convert(inv, "pint", None, partner={**USD, "exchange_rate": "7.1"})
    assert out.mapped.invoice.exchange_rate == Decimal("7.1")
    assert out.warned("EUR", "not used")


def test_a_stated_rate_on_a_cny_invoice_is_pointed_out() -> None:
    out = convert(fapiao(remark="汇率：1 USD = 7.1234 CNY"), "pint", None)
    assert out.mapped.invoice.currency == "CNY" and out.mapped.invoice.exchange_rate is None
    assert out.warned("7.1234", "CNY", "currency")


def test_no_rate_anywhere_names_the_fact() -> None:
    with pytest.raises(MissingFactError) as err:
        convert(fapiao(), "bis3", None, partner=USD)
    assert err.value.field == "metadata.exchange_rate"


def test_a_bad_metadata_rate_is_a_field_error() -> None:
    with pytest.raises(FieldError) as err:
        convert(fapiao(), "bis3", None, partner=USD, metadata={"exchange_rate": "seven"})
    assert err.value.field == "metadata.exchange_rate"


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "pint", "cii"])
def test_converted_totals_are_the_converted_fapiao_totals(
    validator: Validator, profile: str
) -> None:
    """Three lines of 1.00 CNY at 3 CNY/USD: each 0.33, but the net is 1.00 and the amount
    due 1.13 — rounding each line and adding would make 0.99 and 1.12."""
    lines = [
        machine_line(amount="1.00", tax="0.13", gross="1.13", quantity="1", price="1")
        for _ in range(3)
    ]
    out = convert(fapiao(lines), profile, validator, partner={**USD, "exchange_rate": "3"})
    assert out.fatal == []
    t = out.mapped.invoice.totals
    assert t.payable == _due("3.39", "3") == Decimal("1.13")
    assert t.rounding is None
    if profile != "pint-sg":
        assert t.tax_exclusive == Decimal("1.00") and t.tax == Decimal("0.13")
    assert sum(ln.net_amount for ln in out.mapped.invoice.lines) == t.line_net


_MONEY = (
    "//cbc:LineExtensionAmount", "//cbc:TaxableAmount", "//cbc:TaxAmount", "//cbc:Amount",
    "//cbc:TaxExclusiveAmount", "//cbc:TaxInclusiveAmount", "//cbc:PayableAmount",
    "//cbc:PayableRoundingAmount", "//cbc:ChargeTotalAmount", "//ram:LineTotalAmount",
    "//ram:BasisAmount", "//ram:CalculatedAmount", "//ram:TaxBasisTotalAmount",
    "//ram:TaxTotalAmount", "//ram:GrandTotalAmount", "//ram:DuePayableAmount",
    "//ram:RoundingAmount",
)  # fmt: skip


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "pint", "cii", "bis3-cii"])
@pytest.mark.parametrize(
    ("currency", "rate", "places"),
    [("JPY", "0.0471", 0), ("KRW", "0.00523", 0), ("BHD", "18.9", 2), ("USD", "7.1", 2)],
)
def test_amounts_have_the_currencys_decimals(
    validator: Validator, profile: str, currency: str, rate: str, places: int
) -> None:
    """ISO 4217: the yen and the won have no minor unit; an invoice for 31,988.54 JPY cannot
    be paid as stated and a Japanese or Korean buyer's books hold whole units. They were
    converted to two decimals like the dollar. Every amount in the invoice currency now has
    the currency's decimals (none for JPY, KRW; two otherwise: EN 16931 BR-DEC-* allow no
    more, so the dinar's third stays out), the amount due is the converted fapiao total
    rounded once to that unit, BT-111 stays the fapiao's CNY VAT in fen, and the document
    passes the official rules."""
    lines = [
        machine_line(),
        machine_line(amount="333.33", tax="43.33", gross="376.66", quantity="3", price="111.11"),
    ]
    out = convert(
        fapiao(lines), profile, validator, partner={"currency": currency, "exchange_rate": rate}
    )
    assert out.fatal == []
    t = out.mapped.invoice.totals
    assert t.payable == _due("1506.66", rate, currency)
    assert t.payable == t.tax_inclusive + (t.rounding or 0)
    texts = {}
    for path in _MONEY:
        for el in out.root.xpath(path, namespaces=NS):
            texts[el.text] = el.get("currencyID", currency)
    stated = [text for text, cur in texts.items() if cur == currency]
    assert stated and all(
        len(text.partition(".")[2]) == places
        and Decimal(text) == Decimal(text).quantize(amount_unit(currency))
        for text in stated
    ), stated
    if profile != "pint-sg":
        assert "173.33" in [text for text, cur in texts.items() if cur == "CNY"]


def test_converted_prices_carry_few_decimals(validator: Validator) -> None:
    line = machine_line(
        amount="1234.57", tax="160.49", gross="1395.06", quantity="3", price="411.523333333333"
    )
    out = convert(fapiao([line]), "bis3", validator, partner={**USD, "exchange_rate": "7.1234"})
    assert out.fatal == []
    (ln,) = out.mapped.invoice.lines
    assert -ln.price.as_tuple().exponent <= 6  # type: ignore[operator]
    assert abs(ln.quantity * ln.price - ln.net_amount) <= CENT


# 2. buyer reference -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "bis3-cii"])
def test_no_reference_is_never_the_sellers_invoice_number(
    validator: Validator, profile: str
) -> None:
    out = convert(fapiao(), profile, validator)
    inv = out.mapped.invoice
    assert out.fatal == []
    assert inv.buyer_reference is None and inv.buyer_reference != inv.number
    assert inv.order_ref == "NA"
    assert out.warned("BT-10", "BT-13")


def test_references_come_from_submission_partner_and_remark(validator: Validator) -> None:
    sub = convert(fapiao(), "pint-sg", validator, metadata={"buyer_reference": "AP-LC-77"})
    assert sub.fatal == [] and sub.text("cbc:BuyerReference") == "AP-LC-77"
    partner = convert(fapiao(), "bis3", validator, partner={"order_reference": "4500012345"})
    assert partner.fatal == [] and partner.text("cac:OrderReference/cbc:ID") == "4500012345"
    assert partner.text("cbc:BuyerReference") is None and partner.warned("4500012345")
    remark = convert(fapiao(remark="PO: 7788-A 请按合同付款"), "bis3", validator)
    assert remark.fatal == [] and remark.mapped.invoice.order_ref == "7788-A"
    both = convert(
        fapiao(remark="订单号：SO-1"),
        "pint",
        validator,
        partner={"buyer_reference": "LC-ROUTING"},
        metadata={"order_reference": "PO-META"},
    )
    assert (both.mapped.invoice.buyer_reference, both.mapped.invoice.order_ref) == (
        "LC-ROUTING",
        "PO-META",
    )


def test_a_remark_reference_the_invoice_does_not_quote_is_warned_about() -> None:
    """The partner's standing purchase order (or the submission's contract) wins over the one
    the fapiao's remark names, as documented, but the invoice then contradicts its legal
    source: that was silent, now it is a warning naming both (BT-13, BT-12)."""
    out = convert(
        fapiao(remark="订单号：PO-2026-0456 合同号：HT-88"),
        "bis3",
        None,
        partner={"order_reference": "4500012345"},
        metadata={"contract_reference": "HT-99"},
    )
    inv = out.mapped.invoice
    assert (inv.order_ref, inv.contract_ref) == ("4500012345", "HT-99")
    assert out.warned("PO-2026-0456", "4500012345", "BT-13")
    assert out.warned("HT-88", "HT-99", "BT-12")
    same = convert(fapiao(remark="订单号：4500012345"), "bis3", None,
                   partner={"order_reference": "4500012345"})  # fmt: skip
    assert not same.warned("the fapiao's remark names")


# 3. payment account -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "cii"])
def test_the_account_holder_is_the_seller_and_the_bank_is_the_institution(
    validator: Validator, profile: str
) -> None:
    out = convert(fapiao(), profile, validator, exporter={"bic": "BKCHCNBJ300"})
    assert out.fatal == []
    pay = out.mapped.invoice.payment
    assert pay is not None
    assert pay.account_name == SELLER_NAME and pay.account_id == "31001234567890000001"
    assert pay.provider_id == "BKCHCNBJ300" and pay.provider_name == "中国示例银行上海临港支行"
    if profile != "cii":
        account = "cac:PaymentMeans/cac:PayeeFinancialAccount"
        assert out.text(f"{account}/cbc:Name") == SELLER_NAME
        assert out.text(f"{account}/cac:FinancialInstitutionBranch/cbc:ID") == "BKCHCNBJ300"


def test_a_usd_invoice_pays_into_the_usd_account(validator: Validator) -> None:
    accounts = [
        {"currency": "USD", "account": "USD-8899", "bic": "BKCHCNBJ300", "bank": "BOC Shanghai"},
        {"currency": "CNY", "account": "CNY-1111"},
    ]
    exporter = {"accounts": accounts}
    usd = convert(
        fapiao(), "pint-sg", validator, partner={**USD, "exchange_rate": "7.1"}, exporter=exporter
    )
    assert usd.fatal == []
    assert usd.mapped.invoice.payment is not None
    assert usd.mapped.invoice.payment.account_id == "USD-8899"
    assert usd.mapped.invoice.payment.account_name == SELLER_NAME
    cny = convert(fapiao(), "pint-sg", None, exporter=exporter)
    assert cny.mapped.invoice.payment is not None
    assert cny.mapped.invoice.payment.account_id == "CNY-1111"
    printed = convert(fapiao(), "pint", None, partner={**USD, "exchange_rate": "7.1"})
    assert printed.warned("USD", "[[exporters.accounts]]")


def _red_letter() -> SampleInvoice:
    """A red-letter fapiao reversing one line, with its original and its confirmation form."""
    return fapiao(
        [machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")],
        blue="N",
        red_original="26312000000000100001",
        red_confirmation="31010526112200001234",
    )


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "cii"])
def test_a_credit_note_never_presents_the_sellers_account(
    validator: Validator, profile: str
) -> None:
    red = _red_letter()
    out = convert(red, profile, validator)
    assert out.fatal == []
    assert out.mapped.invoice.is_credit_note and out.mapped.invoice.payment is None
    assert b"31001234567890000001" not in out.xml.split(b"AdditionalDocumentReference")[0]
    assert b"PayeeFinancialAccount" not in out.xml and b"CreditorFinancialAccount" not in out.xml


@pytest.mark.parametrize("profile", ["bis3", "pint-sg", "cii"])
def test_huge_quantities_use_a_price_base_quantity(validator: Validator, profile: str) -> None:
    line = machine_line(
        amount="1234567.89",
        tax="160493.83",
        gross="1395061.72",
        quantity="3000000",
        price="0.41152263",
        unit="个",
    )
    out = convert(fapiao([line]), profile, validator, partner={**USD, "exchange_rate": "7.1234"})
    assert out.fatal == []
    (ln,) = out.mapped.invoice.lines
    assert ln.base_quantity is not None and ln.base_quantity_unit == "H87"
    assert abs(ln.quantity * ln.price / ln.base_quantity - ln.net_amount) <= CENT
    assert out.mapped.invoice.totals.payable == _due("1395061.72", "7.1234")


def test_the_submission_may_choose_the_currency(validator: Validator) -> None:
    meta = {"currency": "SGD", "exchange_rate": "5.35"}
    out = convert(fapiao(), "pint-sg", validator, metadata=meta)
    assert out.fatal == []
    assert (out.mapped.invoice.currency, out.mapped.invoice.exchange_rate) == (
        "SGD",
        Decimal("5.35"),
    )
    assert out.mapped.invoice.totals.payable == _due("1130.00", "5.35")
    with pytest.raises(FieldError) as err:
        convert(fapiao(), "pint-sg", None, metadata={"currency": "Singapore dollar"})
    assert err.value.field == "metadata.currency"


@pytest.mark.parametrize("profile", ["pint-sg", "bis3"])
def test_the_conversion_note_states_the_fapiaos_printed_cny_totals(
    validator: Validator, profile: str
) -> None:
    """PINT SG said "net 1130.00, VAT 0, gross 1130.00" (its NG totals: the Chinese VAT is a
    charge there) for a fapiao of net 1,000.00 and VAT 130.00."""
    out = convert(fapiao(), profile, validator, partner={**USD, "exchange_rate": "7.1234"})
    assert out.fatal == []
    (note,) = out.mapped.invoice.notes
    assert "fapiao totals (CNY): net 1000.00, VAT 130.00, gross 1130.00." in note


@pytest.mark.parametrize("profile", ["cii", "bis3-cii"])
def test_a_cii_credit_note_names_one_supporting_document_and_states_the_others(
    validator: Validator, profile: str
) -> None:
    """The original fapiao and the red-letter confirmation form were two
    AdditionalReferencedDocuments of TypeCode 916 with a Name each: CII-SR-475 on every
    credit note. TypeCode 916 is the only code CII-DT-018 leaves a supporting document."""
    red = _red_letter()
    out = convert(red, profile, validator)
    assert out.fatal == []
    report = validator.validate(out.xml, profile)
    assert "CII-SR-475" not in {f.rule_id for f in report.findings}
    docs = out.root.findall(".//ram:AdditionalReferencedDocument", namespaces=NS)
    by_id = {d.findtext("ram:IssuerAssignedID", namespaces=NS): d for d in docs}
    form = by_id["31010526112200001234"]
    assert form.findtext("ram:TypeCode", namespaces=NS) == "916"
    assert form.find("ram:Name", namespaces=NS) is None
    assert sum(d.find("ram:Name", namespaces=NS) is not None for d in docs) == 1
    (note,) = out.mapped.invoice.notes
    assert "31010526112200001234: Red-letter fapiao confirmation form" in note


def test_a_ubl_credit_note_describes_every_supporting_document(validator: Validator) -> None:
    red = _red_letter()
    out = convert(red, "bis3", validator)
    assert out.fatal == []
    descriptions = out.all("cac:AdditionalDocumentReference/cbc:DocumentDescription")
    assert any("confirmation form" in d for d in descriptions)


# 差额征税: the printed deduction ------------------------------------------------------------


def _differential(red: bool = False) -> SampleInvoice:
    """差额征税 (FORMAT.md §6): sales 10100.00 incl. VAT, deduction 10000.00, 6 % on the
    rest: tax (10100 − 10000) / 1.06 × 0.06 = 5.66, taxed base 100 / 1.06 = 94.34."""
    sign = "-" if red else ""
    line = SampleLine(
        "*经纪代理服务*代理费", f"{sign}10094.34", "***", f"{sign}5.66", f"{sign}10100.00"
    )
    inv = fapiao([line], differential=(f"{sign}10000.00", f"{sign}10100.00"))
    if red:
        inv.blue, inv.red_original = "N", "26312000000000100000"
    return inv


@pytest.mark.parametrize("profile", ["bis3", "pint", "cii", "bis3-cii"])
@pytest.mark.parametrize("red", [False, True])
def test_differential_base_and_deduction_are_the_printed_figures(
    validator: Validator, profile: str, red: bool
) -> None:
    """BT-116 of the taxed part is (SalesIncludingTax − Deduction) / (1 + r) (FORMAT.md §12)
    and the exempt part is the printed 扣除额 (it was 94.33 and 10000.01: tax / r)."""
    out = convert(_differential(red), profile, validator)
    assert out.fatal == []
    groups = [
        (b.category, b.taxable_amount, b.tax_amount) for b in out.mapped.invoice.vat_breakdown
    ]
    assert groups == [
        ("S", Decimal("94.34"), Decimal("5.66")),
        ("E", Decimal("10000.00"), Decimal("0.00")),
    ]
    assert out.mapped.invoice.totals.payable == Decimal("10100.00")
