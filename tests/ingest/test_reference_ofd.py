"""The staged OFD samples parse, and their totals equal the values in their own XML / tags."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from copy import deepcopy as copy_element
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import FieldError
from gateway.ingest import detect, parse
from gateway.model import IdScheme, TaxCase

FP = "{http://www.edrm.org.cn/schema/e-invoice/2019}"
OFD = "{http://www.ofdspec.org/2016}"


def _ofd(reference: Path, name: str) -> bytes:
    return (reference / "fapiao" / "samples" / "ofd" / name).read_bytes()


def test_sdp_special_2024_from_custom_tags(reference: Path) -> None:
    data = _ofd(reference, "ofdrw_20240531141733_sdp-special-2024.ofd")
    assert detect(data) == "fapiao-ofd"
    parsed = parse(data)
    inv = parsed.invoice
    assert parsed.source_format == "fapiao-ofd" and parsed.original_xml is None
    assert parsed.original == data
    assert inv.number == "24112000000048542163"
    assert str(inv.issue_date) == "2024-05-28"
    assert inv.seller.identifier(IdScheme.USCC).value == "91110108690017781B"  # type: ignore[union-attr]
    assert inv.buyer.identifier(IdScheme.USCC).value == "91460300MAA92DJN95"  # type: ignore[union-attr]
    assert inv.seller.name == "北京互联三六五科技有限公司"
    (line,) = inv.lines
    assert line.item.name == "*信息技术服务*技术服务费"  # split over two text objects
    assert line.net_amount == Decimal("4197.17") and line.tax_amount == Decimal("251.83")
    assert line.price == Decimal("4197.16981132075") and line.quantity == 1
    assert line.vat_rate == Decimal(6) and line.tax_case is TaxCase.STANDARD
    assert inv.totals.tax_inclusive == Decimal("4449.00")  # "¥" + "4449.00"
    assert parsed.facts.kind == "01" and parsed.facts.drawer == "于俪"
    assert not [w for w in parsed.warnings if not w.code.startswith("uscc")]


def test_sdp_special_2024_totals_equal_customdatas(reference: Path) -> None:
    data = _ofd(reference, "ofdrw_20240531141733_sdp-special-2024.ofd")
    ofd_xml = (
        reference / "fapiao/samples/ofd/ofdrw_20240531141733_sdp-special-2024.extracted/OFD.xml"
    ).read_bytes()
    datas = {e.get("Name"): e.text for e in etree.fromstring(ofd_xml).iter(f"{OFD}CustomData")}
    inv = parse(data).invoice
    assert inv.totals.tax_exclusive == Decimal(datas["合计金额"])  # 合计金额 is the NET total
    assert inv.totals.tax == Decimal(datas["合计税额"])
    assert inv.number == datas["发票号码"]


def test_legacy_2020_from_embedded_xml(reference: Path) -> None:
    data = _ofd(reference, "ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd")
    assert detect(data) == "fapiao-ofd-legacy"
    parsed = parse(data, "fapiao-ofd")
    inv = parsed.invoice
    assert parsed.source_format == "fapiao-ofd-legacy"
    with zipfile.ZipFile(
        reference / "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
    ) as archive:
        embedded = archive.read("Doc_0/Attachs/original_invoice.xml")
    assert parsed.original_xml == embedded
    root = etree.fromstring(embedded)
    assert inv.number == "050001700111" + "99999951"
    assert inv.totals.tax_exclusive == Decimal(root.findtext(f"{FP}TaxExclusiveTotalAmount"))
    assert inv.totals.tax == Decimal(root.findtext(f"{FP}TaxTotalAmount"))
    assert inv.totals.tax_inclusive == Decimal(root.findtext(f"{FP}TaxInclusiveTotalAmount"))
    assert [ln.net_amount for ln in inv.lines] == [Decimal("100.00")] * 3
    assert [ln.tax_amount for ln in inv.lines] == [Decimal("6.00")] * 3
    assert {ln.unit_code for ln in inv.lines} == {"E48"}  # 次: service unit
    assert inv.lines[0].quantity == 4 and inv.lines[0].price == 25
    assert str(inv.issue_date) == "2020-10-10"
    assert inv.seller.identifier(IdScheme.USCC).value == "91500106MA2CE71F65"  # type: ignore[union-attr]
    assert inv.buyer.identifiers[0].scheme == IdScheme.CN_TAXPAYER
    assert inv.buyer.contact is not None and inv.buyer.contact.telephone == "13392342520"
    assert inv.payment is not None
    assert (inv.payment.provider_name, inv.payment.account_id) == ("建设银行", "625555888900998711")
    assert parsed.facts.kind == "10"
    assert parsed.facts.extra["check_code"] == "14754822929856772523"
    codes = {w.code for w in parsed.warnings}
    assert "uscc.check-digit" in codes  # the 2020 demo's seller id is test data
    assert "ofd.customdata-mismatch" not in codes  # OFD.xml CustomDatas agree with the XML


def test_legacy_customdata_disagreeing_with_the_xml_is_warned(reference: Path) -> None:
    path = reference / "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["OFD.xml"] = members["OFD.xml"].replace(b">318.00<", b">381.00<")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    parsed = parse(buffer.getvalue())
    assert parsed.invoice.totals.tax_inclusive == Decimal("318.00")  # the XML wins
    (warning,) = [w for w in parsed.warnings if w.code == "ofd.customdata-mismatch"]
    assert "价税合计" in warning.message


def test_legacy_negative_invoice_built_from_the_reference(reference: Path) -> None:
    """The legacy reference OFD turned into a 负数 invoice in memory (TypeCode 1, negative
    amounts, the blue reference only in the Note) reads as a credit note with that reference."""
    path = reference / "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    root = etree.fromstring(members["Doc_0/Attachs/original_invoice.xml"])
    root.find(f"{FP}TypeCode").text = "1"  # type: ignore[union-attr]
    root.find(f"{FP}Note").text = "对应正数发票代码:050001700111号码:99999950"  # type: ignore[union-attr]
    for name in ("TaxInclusiveTotalAmount", "TaxTotalAmount", "TaxExclusiveTotalAmount"):
        element = root.find(f"{FP}{name}")
        element.text = "-" + element.text  # type: ignore[union-attr,operator]
    for goods in root.iter(f"{FP}GoodsInfo"):
        for name in ("Amount", "TaxAmount", "Quantity"):
            element = goods.find(f"{FP}{name}")
            element.text = "-" + element.text  # type: ignore[union-attr,operator]
    members["Doc_0/Attachs/original_invoice.xml"] = etree.tostring(root, encoding="utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    parsed = parse(buffer.getvalue())
    inv = parsed.invoice
    assert inv.type_code == "381" and parsed.facts.is_red
    assert [p.number for p in inv.preceding_invoices] == ["05000170011199999950"]
    assert inv.totals.tax_inclusive == Decimal("-318.00")
    assert [ln.net_amount for ln in inv.lines] == [Decimal("-100.00")] * 3
    assert not any(ln.is_discount for ln in inv.lines)


def test_detect_answer_is_a_valid_parse_format(reference: Path) -> None:
    for path in sorted((reference / "fapiao/samples").glob("*/*.*")):
        if path.suffix in {".xml", ".ofd"}:
            data = path.read_bytes()
            assert parse(data, detect(data)).source_format == detect(data)


def test_legacy_free_tax_mark_decides_exempt_and_not_subject(reference: Path) -> None:
    """A legacy line's FreeTaxMark (零税率标识 1 免税, 2 不征税; FORMAT.md §6, §10) makes it
    exempt or not subject although its rate prints 0% (it was read as a zero rate)."""
    path = reference / "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    root = etree.fromstring(members["Doc_0/Attachs/original_invoice.xml"])
    for goods, mark in zip(root.iter(f"{FP}GoodsInfo"), ("1", "2", ""), strict=True):
        goods.find(f"{FP}TaxScheme").text = "0%"  # type: ignore[union-attr]
        goods.find(f"{FP}TaxAmount").text = "0.00"  # type: ignore[union-attr]
        etree.SubElement(goods, f"{FP}FreeTaxMark").text = mark
    root.find(f"{FP}TaxTotalAmount").text = "0.00"  # type: ignore[union-attr]
    root.find(f"{FP}TaxInclusiveTotalAmount").text = "300.00"  # type: ignore[union-attr]
    members["Doc_0/Attachs/original_invoice.xml"] = etree.tostring(root, encoding="UTF-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    cases = [line.tax_case for line in parse(buffer.getvalue()).invoice.lines]
    assert cases[:2] == [TaxCase.EXEMPT, TaxCase.NOT_SUBJECT]
    assert cases[2] in (TaxCase.ZERO_RATE, TaxCase.ZERO_RATE_EXPORT)


def _legacy_with(reference: Path, change: Callable[[etree._Element], None]) -> bytes:
    """The legacy reference OFD with its ``original_invoice.xml`` changed in memory."""
    path = reference / "fapiao/samples/ofd/ofdrw_fapiao-shili_vat-e-ordinary-2020.ofd"
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    root = etree.fromstring(members["Doc_0/Attachs/original_invoice.xml"])
    change(root)
    members["Doc_0/Attachs/original_invoice.xml"] = etree.tostring(root, encoding="utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return buffer.getvalue()


def _twice(name: str, text: str | None) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        element = root.find(f".//{FP}{name}")
        assert element is not None
        copy = copy_element(element)
        if text is not None:
            copy.text = text
        element.addnext(copy)

    return change


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("TaxInclusiveTotalAmount", "TaxInclusiveTotalAmount"),
        ("InvoiceNo", "InvoiceNo"),
        ("Amount", "GoodsInfos/GoodsInfo[1]/Amount"),
    ],
)
def test_a_legacy_field_given_twice_with_different_values_is_refused(
    reference: Path, name: str, field: str
) -> None:
    """The legacy reader took the first of two different totals, numbers or line amounts:
    refused now, naming the field, as in a 数电票 XML; the same value twice is still read."""
    with pytest.raises(FieldError) as caught:
        parse(_legacy_with(reference, _twice(name, "1")))
    assert caught.value.rule == "fapiao.repeated"
    assert caught.value.field == f"Doc_0/Attachs/original_invoice.xml:{field}"
    same = parse(_legacy_with(reference, _twice(name, None)))
    assert same.invoice.totals.tax_inclusive == Decimal("318.00")
