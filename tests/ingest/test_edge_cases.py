"""FORMAT.md §13 edge cases, each built here from a fictitious invoice."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest
from lxml import etree

from gateway.errors import FieldError
from gateway.ingest import ParsedInvoice, parse
from gateway.model import IdScheme, TaxCase
from gateway.samples.writers import SampleInvoice, SampleLine, einvoice_xml


def _invoice(**changes: object) -> SampleInvoice:
    base = SampleInvoice(
        number="26312000000000000901",
        issued="2026-09-01 08:00:00",
        lines=[
            SampleLine(
                "*通用设备*液压泵",
                "1000.00",
                "0.13",
                "130.00",
                "1130.00",
                spec="HP-1",
                unit="台",
                quantity="2",
                price="500.00",
            ),
            SampleLine("*信息技术服务*运维服务", "200.00", "0.06", "12.00", "212.00"),
        ],
        net="1200.00",
        tax="142.00",
        gross="1342.00",
        words="壹仟叁佰肆拾贰圆整",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _parse(inv: SampleInvoice) -> ParsedInvoice:
    return parse(einvoice_xml(inv), "fapiao-xml")


def _codes(parsed: ParsedInvoice) -> set[str]:
    return {w.code for w in parsed.warnings}


def _one_line(line: SampleLine, net: str, tax: str, gross: str, **changes: object) -> SampleInvoice:
    return _invoice(lines=[line], net=net, tax=tax, gross=gross, words=None, **changes)


# 1. element order varies ------------------------------------------------------------------


def test_element_order_does_not_matter() -> None:
    data = einvoice_xml(_invoice())
    root = etree.fromstring(data)
    rng = random.Random(7)
    for parent in root.iter():
        children = list(parent)
        if len(children) > 1 and parent.tag != "EInvoiceData":
            rng.shuffle(children)
            parent[:] = children
    shuffled = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert shuffled != data
    a, b = parse(data), parse(shuffled)
    assert a.invoice == b.invoice
    assert [w for w in b.warnings if w.code == "xsd"] == []


# 2. empty and missing nodes ----------------------------------------------------------------


def test_empty_blue_red_flag_with_negative_totals_is_red() -> None:
    line = SampleLine("*通用设备*液压泵", "-100.00", "0.13", "-13.00", "-113.00", quantity="-1",
                      price="100.00")  # fmt: skip
    parsed = _parse(_one_line(line, "-100.00", "-13.00", "-113.00", blue=None, kind=None,
                              taxpayer_type=None, remark="被红冲蓝字数电发票号码：26312000000000000102"))  # fmt: skip
    assert parsed.invoice.type_code == "381" and parsed.facts.is_red
    assert [p.number for p in parsed.invoice.preceding_invoices] == ["26312000000000000102"]
    assert "fapiao.red-inferred" in _codes(parsed)
    assert parsed.facts.kind is None


def test_empty_nodes_everywhere_parse() -> None:
    data = einvoice_xml(_invoice(blue=None, seller_addr="", seller_tel=None, buyer_addr=None))
    root = etree.fromstring(data)
    etree.SubElement(root.find("Header/UndefinedLabel"), "Label")  # type: ignore[arg-type]
    parsed = parse(etree.tostring(root))
    assert parsed.invoice.type_code == "380"
    assert parsed.invoice.seller.address is not None
    assert parsed.invoice.seller.address.street is None
    assert parsed.invoice.buyer.address is None and parsed.invoice.seller.contact is None
    assert [w for w in parsed.warnings if w.code == "xsd"] == []


def test_missing_required_total_names_the_field_and_the_schema() -> None:
    data = einvoice_xml(_invoice(tax=""))
    with pytest.raises(FieldError) as caught:
        parse(data)
    err = caught.value
    assert err.field == "EInvoiceData/BasicInformation/TotalTaxAm" and err.rule == "fapiao.number"
    assert "schema fapiao-einvoice.xsd says" in err.message and "TotalTaxAm" in err.message


def test_no_lines_is_rejected() -> None:
    with pytest.raises(FieldError) as caught:
        _parse(_invoice(lines=[]))
    assert caught.value.rule == "fapiao.lines"


# 3. name collisions -----------------------------------------------------------------------


def test_same_names_in_special_blocks_do_not_leak_into_lines() -> None:
    extra = [
        ("EInvoiceData/SpecificInformation/ConstructionServices", ""),
        ("EInvoiceData/SpecificInformation/TaxationOfVehicleAndVesselUseTax", ""),
    ]
    data = einvoice_xml(_invoice(extra_elements=extra))
    root = etree.fromstring(data)
    specific = root.find("EInvoiceData/SpecificInformation")
    assert specific is not None
    etree.SubElement(specific[0], "ItemName").text = "建筑项目"
    etree.SubElement(specific[1], "Amount").text = "999.99"
    toll = etree.Element("Toll")
    etree.SubElement(toll, "PlateNumber").text = "沪A00000"
    specific.insert(0, toll)
    etree.SubElement(root.find("EInvoiceData/AdditionalInformation"), "Remark2").text = "x"  # type: ignore[arg-type]
    parsed = parse(etree.tostring(root))
    assert [ln.item.name for ln in parsed.invoice.lines] == [
        "*通用设备*液压泵",
        "*信息技术服务*运维服务",
    ]
    assert [ln.net_amount for ln in parsed.invoice.lines] == [Decimal("1000.00"), Decimal("200.00")]
    assert (
        parsed.facts.extra["specific_blocks"]
        == "Toll,ConstructionServices,TaxationOfVehicleAndVesselUseTax"
    )
    assert [w for w in parsed.warnings if w.code == "xsd"] == []  # unknown blocks tolerated


# 5. text in numeric fields ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "tax", "case", "category", "percent"),
    [
        ("0.13", "13.00", TaxCase.STANDARD, "S", Decimal(13)),
        ("0.130000", "13.00", TaxCase.STANDARD, "S", Decimal(13)),
        ("13%", "13.00", TaxCase.STANDARD, "S", Decimal(13)),
        ("0.03", "3.00", TaxCase.SIMPLIFIED, "S", Decimal(3)),
        ("0.015", "1.50", TaxCase.SIMPLIFIED, "S", Decimal("1.5")),
        ("免税", "***", TaxCase.EXEMPT, "E", Decimal(0)),
        ("不征税", "", TaxCase.NOT_SUBJECT, "O", None),
        ("*", "*", TaxCase.NOT_SUBJECT, "O", None),
        ("0%", "0.00", TaxCase.ZERO_RATE, "Z", Decimal(0)),
        ("0", "0", TaxCase.ZERO_RATE, "Z", Decimal(0)),
    ],
)
def test_rate_and_tax_texts(
    rate: str, tax: str, case: TaxCase, category: str, percent: Decimal | None
) -> None:
    tax_value = Decimal(tax) if tax not in ("", "*", "***") else Decimal(0)
    gross = str(Decimal("100.00") + tax_value)
    line = SampleLine("*现代服务*咨询服务", "100.00", rate, tax, gross)
    inv = _one_line(line, "100.00", f"{tax_value:.2f}", gross, buyer_id="91310115MA7CX3Q041",
                    buyer_name="上海示例贸易有限公司", buyer_addr="上海市")  # fmt: skip
    parsed = _parse(inv)
    (ln,) = parsed.invoice.lines
    assert (ln.tax_case, ln.vat_category, ln.vat_rate) == (case, category, percent)
    assert ln.source_rate_text == rate
    assert ln.tax_amount == (None if tax in ("", "*", "***") else Decimal(tax))
    assert not {c for c in _codes(parsed) if c.startswith(("sta.", "fapiao."))}


def test_zero_rate_to_foreign_buyer_is_export() -> None:
    line = SampleLine("*通用设备*液压泵", "100.00", "0.000000", "0.00", "100.00")
    parsed = _parse(_one_line(line, "100.00", "0.00", "100.00"))
    assert parsed.invoice.lines[0].tax_case is TaxCase.ZERO_RATE_EXPORT
    assert parsed.invoice.lines[0].vat_category == "G" and parsed.facts.is_export_hint
    assert parsed.invoice.buyer.identifiers == [] and parsed.invoice.buyer.address is not None
    assert parsed.invoice.buyer.address.country is None


def test_text_in_amount_is_a_field_error() -> None:
    line = SampleLine("*通用设备*液压泵", "一百", "0.13", "13.00", "113.00")
    with pytest.raises(FieldError) as caught:
        _parse(_one_line(line, "100.00", "13.00", "113.00"))
    assert caught.value.field == "EInvoiceData/IssuItemInformation[1]/Amount"
    assert "'一百'" in caught.value.message and "Decimal" in caught.value.message


@pytest.mark.parametrize("tax", ["十三元", "13.00元整", "n/a"])
def test_text_as_the_tax_of_a_rated_line_is_a_field_error(tax: str) -> None:
    """On a line at 13 % the 税额 must be a number: text left the line without its tax and the
    conversion was refused later for a VAT total 'its lines add up to 0', naming no line."""
    line = SampleLine("*通用设备*液压泵", "100.00", "0.13", tax, "113.00")
    with pytest.raises(FieldError) as caught:
        _parse(_one_line(line, "100.00", "13.00", "113.00"))
    assert caught.value.field == "EInvoiceData/IssuItemInformation[1]/ComTaxAm"
    assert caught.value.rule == "fapiao.number"
    assert repr(tax) in caught.value.message and "13 %" in caught.value.message


@pytest.mark.parametrize("tax", ["***", "*", ""])
def test_a_no_tax_marker_on_a_rated_line_is_a_field_error(tax: str) -> None:
    """FORMAT.md §2.1: ``***`` is an exempt line's 税额, ``*`` a telecom summary's, empty a
    not-subject one's. On a line at 13 % they left it without its tax, and the mapping then
    refused the invoice for a VAT total 'its lines add up to 0', naming no line."""
    line = SampleLine("*通用设备*液压泵", "100.00", "0.13", tax, "113.00")
    with pytest.raises(FieldError) as caught:
        _parse(_one_line(line, "100.00", "13.00", "113.00"))
    assert caught.value.field == "EInvoiceData/IssuItemInformation[1]/ComTaxAm"
    assert (caught.value.rule, "13 %" in caught.value.message) == ("fapiao.number", True)


@pytest.mark.parametrize(
    ("rate", "field"),
    [("免税", "ComTaxAm"), ("不征税", "ComTaxAm"), ("***", "TaxRate")],
)
def test_a_tax_on_an_untaxed_line_is_a_field_error(rate: str, field: str) -> None:
    """A 免税 or 不征税 line carries no tax (``***``, ``0.00`` or empty, FORMAT.md §2.1), and
    a rate hidden as ``***`` with a tax is a differential line whose DifferentialTaxation
    block is missing. A tax of 13.00 there was read onto an exempt line, and the mapping
    refused the invoice for an amount due its lines do not add up to, naming a total."""
    line = SampleLine("*现代服务*咨询服务", "100.00", rate, "13.00", "113.00")
    with pytest.raises(FieldError) as caught:
        _parse(_one_line(line, "100.00", "13.00", "113.00"))
    assert caught.value.field == f"EInvoiceData/IssuItemInformation[1]/{field}"
    assert caught.value.rule == "fapiao.tax-case"


def test_unreadable_rate_is_a_field_error() -> None:
    line = SampleLine("*通用设备*液压泵", "100.00", "thirteen", "13.00", "113.00")
    with pytest.raises(FieldError) as caught:
        _parse(_one_line(line, "100.00", "13.00", "113.00"))
    assert caught.value.rule == "fapiao.rate"


def test_differential_rate_hidden_is_derived() -> None:
    # sales incl. tax 10600, deduction 5300 → base 5000 net, tax 300 at 6 %
    line = SampleLine("*经纪代理服务*代理服务", "10300.00", "***", "300.00", "10600.00")
    inv = _one_line(line, "10300.00", "300.00", "10600.00", differential=("5300.00", "10600.00"),
                    labels=[("特定征税方式标签", "03", "差额开票")])  # fmt: skip
    parsed = _parse(inv)
    (ln,) = parsed.invoice.lines
    assert (ln.tax_case, ln.vat_category, ln.vat_rate) == (TaxCase.DIFFERENTIAL, "S", Decimal(6))
    assert parsed.facts.differential == (Decimal("5300.00"), Decimal("10600.00"))
    assert parsed.facts.special_tax_method == "03"
    assert "sta.line-tax-tolerance" not in _codes(parsed)


# 6. red letter ------------------------------------------------------------------------------


def _red(**changes: object) -> SampleInvoice:
    line = SampleLine("*通用设备*液压泵", "-500.00", "0.13", "-65.00", "-565.00",
                      quantity="-1", price="500.00")  # fmt: skip
    return _one_line(line, "-500.00", "-65.00", "-565.00", blue="N", **changes)


def test_red_with_block() -> None:
    parsed = _parse(
        _red(red_original="26312000000000000901", red_confirmation="31012026090100000001")
    )
    inv = parsed.invoice
    assert inv.type_code == "381" and inv.totals.payable == Decimal("-565.00")
    assert inv.lines[0].net_amount < 0 and inv.lines[0].tax_amount == Decimal("-65.00")
    assert not inv.lines[0].is_discount
    assert [p.number for p in inv.preceding_invoices] == ["26312000000000000901"]
    assert parsed.facts.red_confirmation_no == "31012026090100000001"
    assert inv.vat_breakdown[0].taxable_amount == Decimal("-500.00")


@pytest.mark.parametrize(
    "remark",
    [
        "被红冲蓝字数电发票号码：26312000000000000901 红字发票信息确认单编号：31012026090100000001",
        "被红冲蓝字数电票号码:26312000000000000901 红字发票信息确认单编号:31012026090100000001",
    ],
)
def test_red_reference_from_remark(remark: str) -> None:
    parsed = _parse(_red(remark=remark))
    assert [p.number for p in parsed.invoice.preceding_invoices] == ["26312000000000000901"]
    assert parsed.facts.red_confirmation_no == "31012026090100000001"
    assert "red.no-blue-reference" not in _codes(parsed)


def test_red_without_any_reference_is_warned() -> None:
    parsed = _parse(_red())
    assert parsed.invoice.preceding_invoices == []
    assert "red.no-blue-reference" in _codes(parsed)


def test_blue_with_negative_total_is_warned() -> None:
    line = SampleLine("*通用设备*液压泵", "-5.00", "0.13", "-0.65", "-5.65")
    assert "sta.red-sign" in _codes(_parse(_one_line(line, "-5.00", "-0.65", "-5.65")))


# 7. discount lines --------------------------------------------------------------------------


def test_discount_line() -> None:
    lines = [
        SampleLine("*通用设备*液压泵", "1000.00", "0.13", "130.00", "1130.00", quantity="2", price="500"),
        SampleLine("*通用设备*液压泵", "-100.00", "0.13", "-13.00", "-113.00"),
    ]  # fmt: skip
    parsed = _parse(_invoice(lines=lines, net="900.00", tax="117.00", gross="1017.00", words=None))
    first, discount = parsed.invoice.lines
    assert not first.is_discount and discount.is_discount
    assert (discount.quantity, discount.price, discount.quantity_given) == (
        1,
        Decimal("-100.00"),
        False,
    )
    assert parsed.invoice.totals.line_net == Decimal("900.00")
    assert parsed.warnings == []


# 8. tax bureau tolerances -------------------------------------------------------------------


def test_line_tax_within_tolerance_is_quiet_and_beyond_is_warned() -> None:
    inside = SampleLine("*现代服务*咨询", "100.00", "0.06", "6.06", "106.06")
    outside = SampleLine("*现代服务*咨询", "100.00", "0.06", "6.07", "106.07")
    assert "sta.line-tax-tolerance" not in _codes(
        _parse(_one_line(inside, "100.00", "6.06", "106.06"))
    )
    parsed = _parse(_one_line(outside, "100.00", "6.07", "106.07"))
    warning = next(w for w in parsed.warnings if w.code == "sta.line-tax-tolerance")
    assert warning.field == "EInvoiceData/IssuItemInformation[1]"


def test_total_tax_within_1_27_is_quiet() -> None:
    lines = [SampleLine("*现代服务*咨询", "100.00", "0.06", "6.06", "106.06") for _ in range(20)]
    # Σ amount × rate = 120.00, printed total 121.20: 1.20 ≤ 1.27
    parsed = _parse(_invoice(lines=lines, net="2000.00", tax="121.20", gross="2121.20", words=None))
    assert parsed.warnings == []


def test_amount_in_words_is_cross_checked() -> None:
    assert "fapiao.amount-in-words" in _codes(_parse(_invoice(words="壹仟圆整")))
    assert "fapiao.amount-in-words" in _codes(_parse(_invoice(words="not a number")))


def test_total_tax_beyond_1_27_is_warned() -> None:
    lines = [SampleLine("*现代服务*咨询", "100.00", "0.06", "6.06", "106.06") for _ in range(25)]
    # Σ amount × rate = 150.00, printed total 151.50: 1.50 > 1.27
    parsed = _parse(_invoice(lines=lines, net="2500.00", tax="151.50", gross="2651.50", words=None))
    assert "sta.total-tax-tolerance" in _codes(parsed)


def test_price_quantity_and_total_mismatches_are_warned() -> None:
    line = SampleLine(
        "*通用设备*泵", "100.00", "0.13", "13.00", "113.00", quantity="3", price="33.00"
    )
    codes = _codes(_parse(_one_line(line, "100.00", "13.00", "113.01")))
    assert {"sta.line-price-tolerance", "sta.total-gross"} <= codes
    codes = _codes(_parse(_one_line(line, "100.02", "13.00", "113.02")))
    assert "sta.line-sum-tolerance" in codes


# 9./10. personal and foreign buyers ---------------------------------------------------------


def test_personal_buyer_with_id_card() -> None:
    parsed = _parse(_invoice(buyer_name="张示例（个人）", buyer_id="11010519491231002X",
                             buyer_addr=None))  # fmt: skip
    buyer = parsed.invoice.buyer
    assert buyer.is_natural_person
    assert buyer.identifiers == [buyer.identifiers[0]]
    assert buyer.identifiers[0].scheme == IdScheme.CN_RESIDENT_ID
    assert buyer.legal_registration is None
    assert not {c for c in _codes(parsed) if c.startswith(("uscc", "party"))}


def test_personal_buyer_by_suffix_only() -> None:
    parsed = _parse(_invoice(buyer_name="李示例(个人)", buyer_id="", buyer_addr=None))
    assert parsed.invoice.buyer.is_natural_person and parsed.invoice.buyer.identifiers == []


def test_domestic_buyer_uscc_and_org_code() -> None:
    parsed = _parse(_invoice(buyer_id="91310115MA7CX3Q041", buyer_name="上海示例有限公司"))
    buyer = parsed.invoice.buyer
    assert buyer.identifier(IdScheme.USCC).value == "91310115MA7CX3Q041"  # type: ignore[union-attr]
    assert buyer.identifier(IdScheme.CN_ORG_CODE).value == "MA7CX3Q04"  # type: ignore[union-attr]
    assert not parsed.facts.is_export_hint


def test_bad_uscc_check_is_a_warning_not_a_rejection() -> None:
    parsed = _parse(_invoice(seller_id="91310115MA1FL8K22A"))
    warning = next(w for w in parsed.warnings if w.code == "uscc.check-digit")
    assert "expected 'H'" in warning.message
    assert warning.field == "EInvoiceData/SellerInformation/SellerIdNum"


# 14. dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date", "time"),
    [
        ("2026-09-01 08:00:00", "2026-09-01", "08:00:00"),
        ("2026-09-01", "2026-09-01", None),
        ("2026年09月01日", "2026-09-01", None),
        ("20260901080000000", "2026-09-01", "08:00:00"),
    ],
)
def test_date_formats(text: str, date: str, time: str | None) -> None:
    inv = _parse(_invoice(issued=text)).invoice
    assert str(inv.issue_date) == date
    assert (str(inv.issue_time) if inv.issue_time else None) == time
    assert inv.timezone_offset_minutes == 480


def test_bad_date_is_a_field_error() -> None:
    with pytest.raises(FieldError) as caught:
        _parse(_invoice(issued="2026-02-30 08:00:00"))
    assert caught.value.field == "EInvoiceData/BasicInformation/RequestTime"
    assert caught.value.rule == "fapiao.date"


def test_number_year_mismatch_is_warned() -> None:
    assert "sta.number-year" in _codes(_parse(_invoice(issued="2025-12-31 23:59:59")))


# 13. versions and unknown elements ----------------------------------------------------------


def test_unknown_elements_are_tolerated() -> None:
    extra = [
        ("EInvoiceData/SpecificInformation/FutureBlock", "x"),
        ("EInvoiceData/AdditionalInformation/Transaction", "y"),
        ("EInvoiceData/BasicInformation/NewField036", "z"),
    ]
    parsed = _parse(_invoice(version="0.36", extra_elements=extra))
    assert parsed.facts.version == "0.36"
    xsd = [w for w in parsed.warnings if w.code == "xsd"]
    assert len(xsd) == 1 and "NewField036" in xsd[0].message  # only the strict block reports


def test_namespaced_einvoice_is_read() -> None:
    data = einvoice_xml(_invoice()).replace(b"<EInvoice>", b'<EInvoice xmlns="urn:example">')
    parsed = parse(data)
    assert parsed.invoice.number == "26312000000000000901"
    assert "xml.namespace" in _codes(parsed)


def test_number_not_20_digits_is_warned() -> None:
    assert "sta.number-format" in _codes(_parse(_invoice(number="2631200000000000090")))


def test_special_invoice_without_buyer_id_is_warned() -> None:
    assert "sta.special-needs-buyer-id" in _codes(_parse(_invoice(kind="01")))
    domestic = _invoice(kind="01", buyer_id="91310115MA7CX3Q041", buyer_name="上海示例有限公司")
    assert "sta.special-needs-buyer-id" not in _codes(_parse(domestic))


def with_payment_records(inv: SampleInvoice) -> bytes:
    """``inv`` with two payment records: one inside its 附加要素 ``Additional`` (the STA
    example's nesting) and one directly under ``AdditionalInformation`` (FORMAT.md §2.1 calls
    the nesting ambiguous)."""
    root = etree.fromstring(einvoice_xml(inv))
    info = root.find("EInvoiceData/AdditionalInformation")
    assert info is not None
    additional = etree.SubElement(info, "Additional")
    etree.SubElement(additional, "Information").text = "合同号"
    etree.SubElement(additional, "InformationValue").text = "HT-9"
    for parent, channel, number in (
        (additional, "01", "4200001234202611200001"),
        (info, "", "W99"),
    ):
        record = etree.SubElement(etree.SubElement(parent, "Transaction"), "TransactionRecord")
        etree.SubElement(record, "PaymentChannel").text = channel
        etree.SubElement(record, "TransactionNumber").text = number
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_payment_records_are_read_wherever_they_nest() -> None:
    """附加要素 ``Transaction/TransactionRecord{PaymentChannel, TransactionNumber}`` (they were
    not read at all); an empty channel is left out."""
    extra = parse(with_payment_records(_invoice()), "fapiao-xml").facts.extra
    assert {k: v for k, v in extra.items() if k.startswith("payment.")} == {
        "payment.1.channel": "01",
        "payment.1.transaction": "4200001234202611200001",
        "payment.2.transaction": "W99",
    }


FULL_WIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９．－")


def test_full_width_digits_in_amounts_are_read_and_warned() -> None:
    """Amounts typed with full-width digits (１００．００) are the same numbers: read, with
    the schema's finding as the warning (they were refused while ``￥`` and ``，`` were
    already read)."""
    inv = _invoice()
    wide = dataclasses.replace(
        inv,
        net=inv.net.translate(FULL_WIDTH),
        gross=(inv.gross or "").translate(FULL_WIDTH),
        lines=[
            dataclasses.replace(line, amount=line.amount.translate(FULL_WIDTH))
            for line in inv.lines
        ],
    )
    parsed, plain = _parse(wide), _parse(inv)
    assert parsed.invoice.totals == plain.invoice.totals
    assert [ln.net_amount for ln in parsed.invoice.lines] == [
        ln.net_amount for ln in plain.invoice.lines
    ]
    assert "xsd" in _codes(parsed)
