"""The staged 数电票 XML samples (../shared/reference/fapiao/samples/xml) parse to known values."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gateway.ingest import parse
from gateway.model import IdScheme, TaxCase


def _xml(reference: Path, name: str) -> bytes:
    return (reference / "fapiao" / "samples" / "xml" / name).read_bytes()


def _codes(warnings: list) -> set[str]:  # type: ignore[type-arg]
    return {w.code for w in warnings}


def test_official_special_invoice(reference: Path) -> None:
    parsed = parse(_xml(reference, "invoice-precheck_official-gd-special.xml"))
    inv = parsed.invoice
    assert parsed.source_format == "fapiao-xml"
    assert parsed.original_xml == parsed.original
    assert inv.number == "23440000000000100001"
    assert inv.type_code == "380" and inv.currency == "CNY"
    assert str(inv.issue_date) == "2023-02-23"  # RequestTime, date only
    assert str(inv.issue_time) == "10:08:05"  # from TaxSupervisionInfo/IssueTime, same day
    assert inv.timezone_offset_minutes == 480
    assert inv.seller.identifier(IdScheme.USCC).value == "91440000000000000X"  # type: ignore[union-attr]
    assert inv.seller.identifier(IdScheme.CN_ORG_CODE).value == "000000000"  # type: ignore[union-attr]
    assert inv.seller.address is not None and inv.seller.address.country == "CN"
    assert inv.buyer.identifier(IdScheme.USCC).value == "91440000000000001Y"  # type: ignore[union-attr]
    assert inv.payment is not None and inv.payment.provider_name == "示例银行股份有限公司示例支行"
    (line,) = inv.lines
    assert (line.quantity, line.price, line.net_amount) == (Decimal(2), Decimal(1), Decimal("2.00"))
    assert line.tax_amount == Decimal("0.12") and line.vat_rate == Decimal(6)
    assert line.tax_case is TaxCase.STANDARD and line.vat_category == "S"
    assert line.item.classifications == [("3040803010000000000", "ZZZ", None)]
    assert inv.totals.tax_exclusive == Decimal("2.00")
    assert inv.totals.tax == Decimal("0.12")
    assert inv.totals.tax_inclusive == inv.totals.payable == Decimal("2.12")
    assert inv.notes == ["备注内容描述"]
    assert parsed.facts.kind == "01" and parsed.facts.taxpayer_type == "1"
    assert parsed.facts.industry_labels == ["01", "20"]
    assert parsed.facts.region_tag == "SWEI4400" and parsed.facts.version == "0.2"
    assert parsed.facts.tax_bureau_code == "14400000000"
    # the redacted ids are not real USCCs: warned, not rejected
    assert "uscc.check-digit" in _codes(parsed.warnings)


def test_ride_hailing_invoice_with_refund_line(reference: Path) -> None:
    parsed = parse(_xml(reference, "invoice-precheck_gaode-js-taxi.xml"))
    inv = parsed.invoice
    assert inv.number == "26320000000000100001"
    assert str(inv.issue_date) == "2026-07-18" and str(inv.issue_time) == "23:45:14"
    assert inv.type_code == "380"  # empty InIssuType, positive totals: blue
    first, refund = inv.lines
    assert first.net_amount == Decimal("39.35") and first.tax_amount == Decimal("1.18")
    assert first.tax_case is TaxCase.SIMPLIFIED and first.vat_rate == Decimal(3)
    assert refund.net_amount == Decimal("-0.96") and refund.tax_amount == Decimal("-0.03")
    assert refund.is_discount and not refund.quantity_given
    assert refund.quantity == 1 and refund.price == Decimal("-0.96")
    assert inv.totals.line_net == Decimal("38.39") == inv.totals.tax_exclusive
    assert inv.totals.tax == Decimal("1.15") and inv.totals.tax_inclusive == Decimal("39.54")
    (group,) = inv.vat_breakdown
    assert (group.category, group.rate) == ("S", Decimal(3))
    assert (group.taxable_amount, group.tax_amount) == (Decimal("38.39"), Decimal("1.15"))
    assert "ptbh" not in parsed.facts.extra  # <ptbh/> is empty
    codes = _codes(parsed.warnings)
    assert {"uscc.check-digit", "party.id-format", "xsd"} <= codes
    assert not any(c.startswith("sta.") for c in codes)


def test_sta_template_parses_with_field_findings(reference: Path) -> None:
    """The STA spec example is a template (labels in value fields): it parses, and every
    label-in-a-value is reported as a warning naming its element; nothing is invented."""
    parsed = parse(_xml(reference, "sta-spec-v5.002_example-template_v0.35.xml"))
    inv = parsed.invoice
    assert inv.number == "23442000000000130159"
    assert inv.type_code == "380" and inv.preceding_invoices == []
    assert inv.totals.tax_inclusive == Decimal("2.12")
    assert parsed.facts.differential is None
    assert parsed.facts.special_tax_method is None
    assert parsed.facts.extra["ptbh"] == "平台编号"
    assert "Toll" in parsed.facts.extra["specific_blocks"]
    fields = {w.field for w in parsed.warnings if w.code == "xsd"}
    assert "EInvoiceData/SpecificInformation/DifferentialTaxation/Deduction" in fields
    assert "EInvoiceData/SellerInformation/SellerIdNum" in fields
    codes = _codes(parsed.warnings)
    assert {"fapiao.red-block-on-blue", "party.id-format", "fapiao.number"} <= codes
    assert inv.seller.identifiers[0].scheme is None


@pytest.mark.parametrize(
    "name",
    [
        "invoice-precheck_official-gd-special.xml",
        "invoice-precheck_gaode-js-taxi.xml",
        "sta-spec-v5.002_example-template_v0.35.xml",
    ],
)
def test_every_reference_xml_parses(reference: Path, name: str) -> None:
    parsed = parse(_xml(reference, name), "fapiao-xml")
    assert parsed.invoice.lines
