"""Fictitious fapiao as data (:class:`SampleInvoice`) and their 数电票 XML and platform JSON
(the OFD writer is :mod:`gateway.samples.build_ofd`).

The shipped samples (:mod:`gateway.samples.catalogue`, written by ``python -m
gateway.samples.build``) and the test-suite's edge cases use these writers. Everything here is
made up: companies, numbers, addresses; the USCCs are computed to pass their check characters.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

SELLER_USCC = "91310115MA1FL8K22H"
SELLER_NAME = "上海临港示例精密机械有限公司"
SELLER2_USCC = "91310115MA7CX3Q041"
SELLER2_NAME = "上海临港示例海事科技有限公司"


@dataclass(slots=True)
class SampleLine:
    """One line as it is to be printed (texts, so tests can put anything in any field)."""

    name: str
    amount: str
    rate: str
    tax: str | None
    gross: str | None = None
    spec: str | None = None
    unit: str | None = None
    quantity: str | None = None
    price: str | None = None
    code: str | None = "1090125010000000000"


@dataclass(slots=True)
class SampleInvoice:
    """A fapiao to be written; ``None`` leaves an element out, ``""`` writes it empty."""

    number: str
    issued: str
    lines: list[SampleLine]
    net: str
    tax: str
    gross: str | None
    words: str | None = None
    blue: str | None = "Y"
    kind: str | None = "02"
    taxpayer_type: str | None = "1"
    seller_id: str = SELLER_USCC
    seller_name: str = SELLER_NAME
    seller_addr: str | None = "上海市浦东新区临港新片区示例路88号"
    seller_tel: str | None = "021-58000000"
    seller_bank: str | None = "中国示例银行上海临港支行"
    seller_account: str | None = "31001234567890000001"
    buyer_id: str | None = ""
    buyer_name: str = "Lion City Trading Pte. Ltd."
    buyer_addr: str | None = "8 Marina View, #20-01, Asia Square Tower 1, Singapore 018960"
    buyer_tel: str | None = "+65 6000 0000"
    labels: list[tuple[str, str, str]] = field(default_factory=list)
    remark: str | None = None
    red_original: str | None = None
    red_confirmation: str | None = None
    differential: tuple[str, str] | None = None
    drawer: str = "王示例"
    version: str = "0.35"
    region_tag: str = "SWEI3100"
    bureau_code: str = "13100000000"
    bureau_name: str = "国家税务总局上海市税务局"
    extra_elements: list[tuple[str, str]] = field(default_factory=list)
    """(path under EInvoice, text) of unknown elements to add, to test tolerance."""
    special: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """特定业务 blocks of SpecificInformation: (block name, {field: text})."""
    additional: list[tuple[str, str, str]] = field(default_factory=list)
    """附加要素: (name, type, value), as ``AdditionalInformation/Additional`` blocks in the XML
    and ``fjysList`` in the platform JSON."""


def _sub(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, name).text = text


def _label(parent: etree._Element, name: str, code: str | None, text: str) -> None:
    label = etree.SubElement(parent, name)
    if code is not None:
        _sub(label, "LabelCode", code)
        _sub(label, "LabelName", text)


def _header(root: etree._Element, inv: SampleInvoice) -> None:
    header = etree.SubElement(root, "Header")
    _sub(header, "EIid", inv.number)
    _sub(header, "EInvoiceTag", inv.region_tag)
    _sub(header, "Version", inv.version)
    inherent = etree.SubElement(header, "InherentLabel")
    _label(inherent, "InIssuType", inv.blue, "是否蓝字发票标志")
    _label(inherent, "EInvoiceType", "01", "电子发票")
    kind_name = {"01": "增值税专用发票", "02": "普通发票"}.get(inv.kind or "", "")
    _label(inherent, "GeneralOrSpecialVAT", inv.kind, kind_name)
    _label(inherent, "TaxpayerType", inv.taxpayer_type, "一般纳税人")
    undefined = etree.SubElement(header, "UndefinedLabel")
    for label_type, code, name in inv.labels:
        label = etree.SubElement(undefined, "Label")
        _sub(label, "LabelType", label_type)
        _sub(label, "LabelCode", code)
        _sub(label, "LabelName", name)


def _line(data: etree._Element, line: SampleLine) -> None:
    item = etree.SubElement(data, "IssuItemInformation")
    _sub(item, "ItemName", line.name)
    _sub(item, "SpecMod", line.spec)
    _sub(item, "MeaUnits", line.unit)
    _sub(item, "Quantity", line.quantity)
    _sub(item, "UnPrice", line.price)
    _sub(item, "Amount", line.amount)
    _sub(item, "TaxRate", line.rate)
    _sub(item, "ComTaxAm", line.tax)
    _sub(item, "TotaltaxIncludedAmount", line.gross)
    _sub(item, "TaxClassificationCode", line.code)


def _parties(data: etree._Element, inv: SampleInvoice) -> None:
    seller = etree.SubElement(data, "SellerInformation")
    for name, value in (
        ("SellerIdNum", inv.seller_id), ("SellerName", inv.seller_name),
        ("SellerAddr", inv.seller_addr), ("SellerTelNum", inv.seller_tel),
        ("SellerBankName", inv.seller_bank), ("SellerBankAccNum", inv.seller_account),
    ):  # fmt: skip
        _sub(seller, name, value)
    buyer = etree.SubElement(data, "BuyerInformation")
    for name, value in (
        ("BuyerIdNum", inv.buyer_id), ("BuyerName", inv.buyer_name),
        ("BuyerAddr", inv.buyer_addr), ("BuyerTelNum", inv.buyer_tel),
    ):  # fmt: skip
        _sub(buyer, name, value)


def _specific(data: etree._Element, inv: SampleInvoice) -> None:
    specific = etree.SubElement(data, "SpecificInformation")
    if inv.differential:
        block = etree.SubElement(specific, "DifferentialTaxation")
        _sub(block, "Deduction", inv.differential[0])
        _sub(block, "SalesIncludingTax", inv.differential[1])
    for name, fields in inv.special:
        block = etree.SubElement(specific, name)
        for key, text in fields.items():
            _sub(block, key, text)
    if inv.red_original or inv.red_confirmation:
        block = etree.SubElement(specific, "RedEInvoice")
        _sub(block, "OriginalInvoiceCode", inv.red_original)
        _sub(block, "CreditNoteNumber", inv.red_confirmation)


def einvoice_xml(inv: SampleInvoice) -> bytes:
    """The 数电票 XML of ``inv`` (UTF-8, pretty printed)."""
    root = etree.Element("EInvoice")
    _header(root, inv)
    data = etree.SubElement(root, "EInvoiceData")
    _parties(data, inv)
    basic = etree.SubElement(data, "BasicInformation")
    _sub(basic, "TotalAmWithoutTax", inv.net)
    _sub(basic, "TotalTaxAm", inv.tax)
    _sub(basic, "TotalTax-includedAmount", inv.gross)
    _sub(basic, "TotalTax-includedAmountInChinese", inv.words)
    _sub(basic, "Drawer", inv.drawer)
    _sub(basic, "RequestTime", inv.issued)
    for line in inv.lines:
        _line(data, line)
    _specific(data, inv)
    additional = etree.SubElement(data, "AdditionalInformation")
    _sub(additional, "Remark", inv.remark or "")
    for name, kind, value in inv.additional:
        block = etree.SubElement(additional, "Additional")
        _sub(block, "Information", name)
        _sub(block, "InformationType", kind)
        _sub(block, "InformationValue", value)
    supervision = etree.SubElement(root, "TaxSupervisionInfo")
    _sub(supervision, "InvoiceNumber", inv.number)
    _sub(supervision, "IssueTime", inv.issued[:10])
    _sub(supervision, "TaxBureauCode", inv.bureau_code)
    _sub(supervision, "TaxBureauName", inv.bureau_name)
    etree.SubElement(root, "ptbh")
    for path, text in inv.extra_elements:
        parent_path, _, name = path.rpartition("/")
        parent = root.find(parent_path) if parent_path else root
        if parent is not None:
            _sub(parent, name, text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _is_discount(inv: SampleInvoice, line: SampleLine) -> bool:
    return inv.blue != "N" and line.quantity is None and line.amount.startswith("-")


def platform_json(inv: SampleInvoice, *, export_policy: str | None = None) -> bytes:
    """The STA platform JSON (乐企 pinyin keys) of ``inv``."""
    doc: dict[str, Any] = {
        "fphm": inv.number, "kprq": inv.issued, "fppz": inv.kind,
        "lzfpbz": "0" if inv.blue != "N" else "1",
        "xsfnsrsbh": inv.seller_id, "xsfmc": inv.seller_name, "xsfdz": inv.seller_addr,
        "xsfdh": inv.seller_tel, "xsfkhh": inv.seller_bank, "xsfzh": inv.seller_account,
        "gmfnsrsbh": inv.buyer_id or "", "gmfmc": inv.buyer_name, "gmfdz": inv.buyer_addr,
        "gmfdh": inv.buyer_tel, "gmfzrrbz": "N",
        "hjje": inv.net, "hjse": inv.tax, "jshj": inv.gross, "kpr": inv.drawer,
        "bz": inv.remark or "", "dylzfphm": inv.red_original or "",
        "hzqrxxdbh": inv.red_confirmation or "",
    }  # fmt: skip
    if export_policy:
        doc["ckywsyzcDm"] = export_policy
    doc["fpmxList"] = [
        {
            "mxxh": i,
            "hwhyslwfwmc": ln.name,
            "ggxh": ln.spec or "",
            "dw": ln.unit or "",
            "sl": ln.quantity or "",
            "dj": ln.price or "",
            "je": ln.amount,
            "slv": ln.rate,
            "se": ln.tax or "",
            "hsje": ln.gross or "",
            "sphfwssflhbbm": ln.code or "",
            "fphxz": "01" if _is_discount(inv, ln) else "00",
        }
        for i, ln in enumerate(inv.lines, start=1)
    ]
    if inv.additional:
        doc["fjysList"] = [
            {"fjysmc": name, "fjyslx": kind, "fjysz": value} for name, kind, value in inv.additional
        ]
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def nuonuo_json(inv: SampleInvoice) -> bytes:
    """The Nuonuo query-result JSON (camelCase keys, FORMAT.md §11) of ``inv``: one invoice in
    the list Nuonuo answers under ``result``, ``invoiceTime`` in milliseconds since 1970."""
    moment = dt.datetime.fromisoformat(inv.issued).replace(
        tzinfo=dt.timezone(dt.timedelta(hours=8))
    )
    kind = "电子发票(增值税专用发票)" if inv.kind == "01" else "电子发票(普通发票)"
    doc: dict[str, Any] = {
        "serialNo": f"NN{inv.number[-12:]}", "orderNo": f"SO-{inv.number[-6:]}", "status": "2",
        "invoiceTime": int(moment.timestamp()) * 1000, "invoiceCode": "",
        "invoiceNo": inv.number, "allElectronicInvoiceNumber": inv.number,
        "exTaxAmount": inv.net, "taxAmount": inv.tax, "orderAmount": inv.gross,
        "payerName": inv.buyer_name, "payerTaxNo": inv.buyer_id or "",
        "saleName": inv.seller_name, "salerTaxNum": inv.seller_id, "invoiceKind": kind,
        "invoiceType": 1 if inv.blue != "N" else 2,
        "oldEleInvoiceNumber": inv.red_original or "",
    }  # fmt: skip
    doc["invoiceItems"] = [
        {
            "itemName": ln.name,
            "itemUnit": ln.unit or "",
            "itemPrice": ln.price or "",
            "itemNum": ln.quantity or "",
            "itemAmount": ln.amount,
            "itemTaxRate": ln.rate,
            "itemTaxAmount": ln.tax or "",
            "itemCode": ln.code or "",
            "isIncludeTax": "false",
            "invoiceLineProperty": "1" if _is_discount(inv, ln) else "0",
            "zeroRateFlag": "",
            "favouredPolicyFlag": "",
        }
        for ln in inv.lines
    ]
    return json.dumps({"result": [doc]}, ensure_ascii=False, indent=2).encode("utf-8")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated zip of ``members`` with fixed timestamps (reproducible bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def money(value: str) -> Decimal:
    """Decimal of a printed amount (helper for catalogue arithmetic)."""
    return Decimal(value)
