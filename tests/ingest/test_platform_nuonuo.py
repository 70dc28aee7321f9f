"""Nuonuo (诺诺) platform JSON: camelCase keys for the fields the 乐企 keys name (FORMAT.md §11).

Before, such JSON was refused ("no invoice"); each key FORMAT.md lists is now read into the
field the pinyin reader fills, and keys no vocabulary knows still get today's errors.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.errors import FieldError, InputError
from gateway.ingest import detect, parse
from gateway.model import TaxCase
from gateway.samples import catalogue
from gateway.samples.writers import nuonuo_json, platform_json
from tests.mapping.fidelity import fapiao, machine_line

NO_INVOICE = "platform JSON has no invoice: expected keys such as fphm, xsfnsrsbh, hjje"


def _doc(**changes: Any) -> dict[str, Any]:
    """The Nuonuo invoice object of the catalogue's platform-export fapiao, changed."""
    (doc,) = json.loads(nuonuo_json(catalogue.PLATFORM_EXPORT))["result"]
    assert isinstance(doc, dict)
    doc.update(changes)
    return doc


def _item(doc: dict[str, Any], index: int = 0) -> dict[str, Any]:
    items = doc["invoiceItems"]
    assert isinstance(items, list)
    item: dict[str, Any] = items[index]
    return item


def _dump(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def test_nuonuo_json_reads_as_the_same_invoice_as_the_pinyin_json() -> None:
    """Every field both vocabularies carry lands in the same place."""
    data = nuonuo_json(catalogue.PLATFORM_EXPORT)
    assert detect(data) == "fapiao-json"
    camel, pinyin = parse(data), parse(platform_json(catalogue.PLATFORM_EXPORT))
    a, b = camel.invoice, pinyin.invoice
    assert camel.source_format == "fapiao-json" and camel.original == data
    assert (a.number, a.issue_date, a.issue_time, a.type_code) == (
        b.number,
        b.issue_date,
        b.issue_time,
        b.type_code,
    )
    assert a.issue_time == dt.time.fromisoformat(catalogue.PLATFORM_EXPORT.issued[11:])
    assert a.totals == b.totals
    assert (a.seller.name, a.seller.identifiers) == (b.seller.name, b.seller.identifiers)
    assert (a.buyer.name, a.buyer.identifiers) == (b.buyer.name, b.buyer.identifiers)
    fields = ("net_amount", "tax_amount", "vat_rate", "vat_category", "tax_case", "quantity",
              "price", "unit_code", "is_discount")  # fmt: skip
    for mine, theirs in zip(a.lines, b.lines, strict=True):
        assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
        assert (mine.item.name, mine.item.classifications) == (
            theirs.item.name,
            theirs.item.classifications,
        )
        # 规格型号 has no key in FORMAT.md's Nuonuo list, so only the printed unit travels
        assert mine.item.attributes == [a for a in theirs.item.attributes
                                        if a.name != "Specification"]  # fmt: skip
    assert camel.facts.kind == "02"
    assert camel.facts.extra["status"] == "2" and camel.facts.extra["orderNo"]
    assert [w.code for w in camel.warnings] == [w.code for w in pinyin.warnings]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda d: d,
        lambda d: {"code": "E0000", "result": [d]},
        lambda d: {"data": d},
        lambda d: {"result": {"body": d}},
    ],
)
def test_nuonuo_object_alone_or_in_an_envelope(wrap: Any) -> None:
    parsed = parse(_dump(wrap(_doc())))
    assert parsed.invoice.number == catalogue.PLATFORM_EXPORT.number


def test_misspelt_number_key_and_the_number_alone() -> None:
    """FORMAT.md quotes ``allElectronicInvoiceNumbe``; without either, ``invoiceNo`` is the
    number (20 digits for a 数电 electronic invoice)."""
    doc = _doc()
    number = doc.pop("allElectronicInvoiceNumber")
    assert parse(_dump({**doc, "allElectronicInvoiceNumbe": number})).invoice.number == number
    parsed = parse(_dump(doc))
    assert parsed.invoice.number == number
    assert "sta.number-format" not in {w.code for w in parsed.warnings}


def test_legacy_code_and_number_are_concatenated() -> None:
    doc = _doc(invoiceCode="031001900111", invoiceNo="12345678", allElectronicInvoiceNumber="")
    parsed = parse(_dump(doc))
    assert parsed.invoice.number == "03100190011112345678"
    assert parsed.facts.extra["invoice_code"] == "031001900111"
    assert "sta.number-format" not in {w.code for w in parsed.warnings}


def test_red_letter_from_invoice_type_and_old_number() -> None:
    inv = fapiao(
        [machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")],
        blue="N",
        red_original="26312000000000100001",
    )
    parsed = parse(nuonuo_json(inv))
    assert parsed.invoice.type_code == "381" and parsed.facts.is_red
    assert [p.number for p in parsed.invoice.preceding_invoices] == ["26312000000000100001"]
    legacy = _doc(invoiceType=2, oldEleInvoiceNumber="", oldInvoiceNo="26312000000000100002")
    _item(legacy).update(itemAmount="-28650.00", itemNum="-300")
    legacy.update(exTaxAmount="-28650.00", orderAmount="-28650.00")
    red = parse(_dump(legacy))
    assert [p.number for p in red.invoice.preceding_invoices] == ["26312000000000100002"]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("电子发票(增值税专用发票)", "01"),
        ("电子发票（普通发票）", "02"),
        ("机动车销售统一发票", None),
    ],
)
def test_invoice_kind_text_gives_the_kind_code(kind: str, code: str | None) -> None:
    assert parse(_dump(_doc(invoiceKind=kind))).facts.kind == code


def test_tax_inclusive_item_is_taken_net() -> None:
    doc = _doc()
    _item(doc).update(isIncludeTax="true", itemAmount="113.00", itemTaxAmount="13.00",
                      itemTaxRate="0.13", itemPrice="113", itemNum="1")  # fmt: skip
    doc["invoiceItems"] = doc["invoiceItems"][:1]
    doc.update(exTaxAmount="100.00", taxAmount="13.00", orderAmount="113.00")
    (line,) = parse(_dump(doc)).invoice.lines
    assert (line.net_amount, line.tax_amount, line.price) == (
        Decimal("100.00"),
        Decimal("13.00"),
        Decimal(100),
    )
    _item(doc).update(itemTaxAmount="")
    with pytest.raises(FieldError) as caught:
        parse(_dump(doc))
    assert caught.value.rule == "json.tax-inclusive"
    assert caught.value.field == "invoiceItems[0].itemTaxAmount"  # the first item
    assert "isIncludeTax true" in caught.value.message


def test_line_property_and_policy_flags() -> None:
    doc = _doc()
    _item(doc, 0).update(favouredPolicyFlag="03", itemTaxRate="0", itemTaxAmount="")
    _item(doc, 1).update(invoiceLineProperty="1", itemAmount="-50.00", itemNum="", itemPrice="")
    doc.update(exTaxAmount="28600.00", orderAmount="28600.00")
    exempt, discount = parse(_dump(doc)).invoice.lines
    assert exempt.tax_case is TaxCase.EXEMPT and exempt.vat_category == "E"
    assert discount.is_discount and not discount.quantity_given


@pytest.mark.parametrize(
    ("favoured", "zero_rate", "case"),
    [
        ("1", "", TaxCase.ZERO_RATE_EXPORT),  # an older Nuonuo "yes", not a 数电 code
        ("", "1", TaxCase.EXEMPT),  # legacy 零税率标识 1 免税
        ("", "2", TaxCase.NOT_SUBJECT),  # 2 不征税
        ("04", "", TaxCase.NOT_SUBJECT),
    ],
)
def test_zero_rate_flag_and_old_policy_flag(favoured: str, zero_rate: str, case: TaxCase) -> None:
    doc = _doc()
    _item(doc).update(favouredPolicyFlag=favoured, zeroRateFlag=zero_rate)
    assert parse(_dump(doc)).invoice.lines[0].tax_case is case


def test_deduction_makes_a_differential_invoice_only_when_not_zero() -> None:
    doc = _doc()
    doc["invoiceItems"] = doc["invoiceItems"][:1]
    _item(doc).update(itemAmount="9433.96", itemTaxRate="0.06", itemTaxAmount="566.04",
                      itemNum="", itemPrice="", deduction="0.00")  # fmt: skip
    doc.update(exTaxAmount="9433.96", taxAmount="566.04", orderAmount="10000.00")
    assert parse(_dump(doc)).facts.differential is None
    _item(doc).update(itemAmount="9433.96", itemTaxAmount="0.00", deduction="10000.00")
    doc.update(taxAmount="0.00", exTaxAmount="9433.96", orderAmount="9433.96")
    assert parse(_dump(doc)).facts.differential == (Decimal("10000.00"), Decimal("9433.96"))


@pytest.mark.parametrize("status", ["2", "21", "24", 2, None])
def test_issued_statuses_are_read(status: object) -> None:
    assert parse(_dump(_doc(status=status))).invoice.number == catalogue.PLATFORM_EXPORT.number


@pytest.mark.parametrize(("status", "word"), [("3", "作废"), ("22", "失败"), ("20", "开票中"),
                                               ("99", "not a status")])  # fmt: skip
def test_voided_failed_or_pending_invoices_are_refused(status: str, word: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse(_dump(_doc(status=status)))
    assert (caught.value.rule, caught.value.field) == ("json.invoice-status", "status")
    assert word in caught.value.message


def test_invoice_time_as_text_or_unreadable() -> None:
    parsed = parse(_dump(_doc(invoiceTime="2026-11-20 10:15:00")))
    assert (str(parsed.invoice.issue_date), str(parsed.invoice.issue_time)) == (
        "2026-11-20",
        "10:15:00",
    )
    for bad, rule in (("yesterday", "fapiao.date"), ("9" * 30, "fapiao.date")):
        with pytest.raises(FieldError) as caught:
            parse(_dump(_doc(invoiceTime=bad)))
        assert (caught.value.rule, caught.value.field) == (rule, "invoiceTime")


@pytest.mark.parametrize("seconds", [False, True])
def test_invoice_time_in_seconds_or_other_digits_is_refused(seconds: bool) -> None:
    """FORMAT.md §11: ``invoiceTime`` is milliseconds since 1970. Seconds since 1970 were
    read as a day in January 1970, ``0`` as 1970-01-01, each with no more than a warning that
    the number's year differs: refused now, naming the field (and the likely slip)."""
    moment = int(dt.datetime(2026, 11, 20, 2, 15, tzinfo=dt.UTC).timestamp())
    with pytest.raises(FieldError) as caught:
        parse(_dump(_doc(invoiceTime=moment if seconds else 0)))
    assert (caught.value.rule, caught.value.field) == ("fapiao.date", "invoiceTime")
    assert ("seconds, not milliseconds" in caught.value.message) == seconds


@pytest.mark.parametrize(
    ("text", "time"),
    [("20261120", "None"), ("20261120101500", "10:15:00"), ("20261120101500123", "10:15:00")],
)
def test_invoice_time_written_as_compact_digits_is_a_date(text: str, time: str) -> None:
    """Digits only, as FORMAT.md §4 shows dates written (``yyyyMMddHHmmssSSS``): '20261120'
    was read as 20,261,120 milliseconds since 1970, 1970-01-01 13:37."""
    inv = parse(_dump(_doc(invoiceTime=text))).invoice
    assert (str(inv.issue_date), str(inv.issue_time)) == ("2026-11-20", time)


def test_invoice_time_is_china_time() -> None:
    """1 January 2026 00:30 in Shanghai is 31 December 2025 16:30 UTC."""
    moment = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)
    doc = _doc(invoiceTime=int(moment.timestamp() * 1000))
    inv = parse(_dump(doc)).invoice
    assert (str(inv.issue_date), str(inv.issue_time), inv.timezone_offset_minutes) == (
        "2026-01-01",
        "00:30:00",
        480,
    )


def test_missing_fields_are_named_by_their_camel_case_key() -> None:
    doc = _doc()
    del doc["exTaxAmount"]
    with pytest.raises(FieldError) as caught:
        parse(_dump(doc))
    assert (caught.value.rule, caught.value.field) == ("fapiao.number", "exTaxAmount")
    with pytest.raises(FieldError) as caught:
        parse(_dump(_doc(invoiceItems={"itemName": "x"})))
    assert (caught.value.rule, caught.value.field) == ("json.shape", "invoiceItems")
    assert caught.value.message == "invoiceItems must be a list of line objects"


def test_several_invoices_in_one_document_are_refused() -> None:
    with pytest.raises(FieldError) as caught:
        parse(_dump({"result": [_doc(), _doc()]}))
    assert caught.value.rule == "json.shape" and "2 invoices" in caught.value.message


@pytest.mark.parametrize(
    "doc",
    [
        {"hello": "world"},
        {"invoiceNumber": "26312000000000000101", "sellerTaxNo": "91310115MA1FL8K22H"},
        {"result": [{"buyerName": "x", "invoiceTotalPrice": "1.00"}]},
        {"result": []},
    ],
)
def test_unknown_keys_get_the_same_error_as_before(doc: object) -> None:
    """Keys neither vocabulary knows (nor Baiwang's, which FORMAT.md leaves unconfirmed)."""
    with pytest.raises(InputError) as caught:
        parse(_dump(doc), "fapiao-json")
    assert (caught.value.rule, caught.value.field) == ("json.shape", "fphm")
    assert caught.value.message == NO_INVOICE


def test_pinyin_keys_win_over_camel_case_keys() -> None:
    """An object with both vocabularies is read as 乐企 JSON, as before."""
    doc = json.loads(platform_json(catalogue.PLATFORM_EXPORT))
    doc.update(invoiceNo="99999999999999999999", exTaxAmount="1.00")
    assert parse(_dump(doc)).invoice.number == catalogue.PLATFORM_EXPORT.number
