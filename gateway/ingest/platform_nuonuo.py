"""Nuonuo 诺诺 / 诺税通 platform JSON: camelCase keys for the fields the 乐企 keys name
(FORMAT.md §11, ``nuonuo.OpeMplatform.queryInvoiceResult``).

Only the keys FORMAT.md §11 lists are read, each into the field the 乐企 reader fills from its
pinyin key:

==============================  =============  ==========================================
Nuonuo key                      乐企 key        read as
==============================  =============  ==========================================
allElectronicInvoiceNumber,     fphm           invoice number (the 20-digit 数电 number
invoiceNo (+ invoiceCode)                      first; else code + number, as for legacy
                                               invoices)
invoiceTime                     kprq           issue date and time (milliseconds since
                                               1970, read in China time, UTC+8)
saleName / salerTaxNum          xsfmc …        seller name / taxpayer id
payerName / payerTaxNo          gmfmc …        buyer name / taxpayer id
exTaxAmount, taxAmount,         hjje, hjse,    net, VAT and gross totals
orderAmount                     jshj
invoiceType (1 blue, 2 red)     lzfpbz         blue or red
invoiceKind (text)              fppz           专用发票 → 01, 普通发票 → 02
oldEleInvoiceNumber,            dylzfphm       the blue invoice a red one reverses
oldInvoiceNo
invoiceItems[]                  fpmxList[]     lines: itemName, itemAmount, itemTaxRate,
                                               itemTaxAmount, itemUnit, itemNum, itemPrice,
                                               itemCode, isIncludeTax (hsbz),
                                               invoiceLineProperty 0/1/2 (fphxz 00/01/02),
                                               favouredPolicyFlag (yhzcbs), deduction (kce)
==============================  =============  ==========================================

A ``status`` other than an issued invoice's (2, or 21 / 24: issued, its signature pending or
failed) is refused: a voided or failed invoice is no invoice to convert. Keys not listed are
not read (the remark, addresses and bank details are not in FORMAT.md's description).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.errors import FieldError
from gateway.ingest.platform_fields import JsonObject, includes_tax, net_of_tax, object_list
from gateway.ingest.record import RawFapiao, RawLine, RawParty, Src
from gateway.ingest.values import number_or_none
from gateway.model.china_time import CHINA_TIME

NUMBER_KEYS = ("allElectronicInvoiceNumber", "allElectronicInvoiceNumbe")
"""The 20-digit 数电 number: FORMAT.md quotes the key as Nuonuo's documentation misspells it,
the SDK it cites spells it out; either is read."""
MARKERS = (*NUMBER_KEYS, "invoiceNo", "salerTaxNum", "invoiceItems")
"""Keys that say an object is a Nuonuo invoice."""
ISSUED = frozenset({"2", "21", "24"})
STATUS_NAMES = {
    "2": "开票完成, issued",
    "20": "开票中, being issued",
    "21": "开票成功签章中, issued, being signed",
    "22": "开票失败, issuing failed",
    "24": "开票成功签章失败, issued, signing failed",
    "3": "发票已作废, voided",
    "31": "发票作废中, being voided",
}
LINE_KINDS = {"0": "00", "1": "01", "2": "02"}
"""发票行性质 ``invoiceLineProperty`` → 乐企 ``fphxz``: normal, discount, discounted."""
ZERO_RATE_POLICY = {"1": "03", "2": "04"}
"""Legacy 零税率标识 ``zeroRateFlag`` (LSLBS, empty on 数电票) → the 优惠政策标识 of the same
meaning: 1 免税 → 03 exempt, 2 不征税 → 04 not subject. 0 (export) and 3 (ordinary zero rate)
are left to the rate and the buyer, as for every input."""
EXTRA_KEYS = ("serialNo", "orderNo", "status", "invoiceKind", "redReason", "specificFactor")


def _check_status(o: JsonObject) -> None:
    status = o.src("status")
    if status.value is None or status.value in ISSUED:
        return
    name = STATUS_NAMES.get(status.value, "not a status Nuonuo documents")
    raise FieldError(
        f"status is {status.value} ({name}): only an issued invoice (status 2, or 21 / 24 "
        "while or after its signing) is converted",
        field=status.path,
        rule="json.invoice-status",
    )


def _number(o: JsonObject, extra: dict[str, str]) -> Src:
    full = o.src(*NUMBER_KEYS)
    if full.value is not None:
        return full
    number, code = o.src("invoiceNo"), o.src("invoiceCode")
    if number.value is not None and code.value is not None:
        extra["invoice_code"] = code.value
        return Src(code.value + number.value, f"{code.path} + {number.path}")
    return number


EPOCH_MS_DIGITS = 13
"""Milliseconds since 1970 for any day from 2001-09-09 to 2286 are 13 digits."""
COMPACT_DATE_DIGITS = frozenset({8, 14, 17})
"""``yyyyMMdd``, ``yyyyMMddHHmmss``, ``yyyyMMddHHmmssSSS`` (FORMAT.md §4): digits too."""


def _issued(o: JsonObject) -> Src:
    """``invoiceTime`` in milliseconds since 1970 (13 digits) as China's local time; a date
    written out, compact ones (``20261102``) included, as sent. Other digits are refused:
    ``20261102`` read as milliseconds was 1970-01-01, and seconds since 1970 were read as a
    day in January 1970, each with no more than a warning about the number's year."""
    src = o.src("invoiceTime")
    raw = src.value
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) in COMPACT_DATE_DIGITS:
        return src
    if len(raw) != EPOCH_MS_DIGITS:
        seconds = " (seconds, not milliseconds?)" if len(raw) == EPOCH_MS_DIGITS - 3 else ""
        raise FieldError(
            f"{src.path} is {raw}: expected milliseconds since 1970 ({EPOCH_MS_DIGITS} digits, "
            f"FORMAT.md §11) or a date such as 2026-11-02 10:00:00{seconds}",
            field=src.path,
            rule="fapiao.date",
        )
    seconds_since = int(raw) // 1000
    try:
        moment = dt.datetime.fromtimestamp(seconds_since, CHINA_TIME)
    except (OverflowError, OSError, ValueError):
        raise FieldError(
            f"{src.path} is {raw}: not a time in milliseconds since 1970",
            field=src.path,
            rule="fapiao.date",
        ) from None
    return Src(moment.strftime("%Y-%m-%d %H:%M:%S"), src.path)


def _kind(name: str | None) -> str | None:
    """The 票种 code (01 专票, 02 普票) of an ``invoiceKind`` text such as 电子发票(增值税专用发票)."""
    if name is None:
        return None
    if "专用发票" in name:
        return "01"
    if "普通发票" in name:
        return "02"
    return None


def _blue(o: JsonObject) -> bool | None:
    return {"1": True, "2": False}.get(o.value("invoiceType") or "")


def _policy(o: JsonObject) -> str | None:
    """优惠政策标识: ``favouredPolicyFlag`` when it is a 数电 code (01-18; older Nuonuo
    invoices use 0/1 there for "no"/"yes"), else what ``zeroRateFlag`` says."""
    flag = o.value("favouredPolicyFlag")
    if flag is not None and len(flag) == 2 and flag.isascii() and flag.isdigit():
        return flag
    return ZERO_RATE_POLICY.get(o.value("zeroRateFlag") or "")


def _line(o: JsonObject, path: str) -> RawLine:
    amount: Src = o.src("itemAmount")
    gross: Src | None = None
    price: Src | None = o.src("itemPrice")
    if includes_tax(o, "isIncludeTax"):
        amount, gross, price = net_of_tax(
            o, path, ("itemAmount", "itemTaxAmount"), ("isIncludeTax true", "isIncludeTax false")
        )
    return RawLine(
        path=path,
        name=o.src("itemName"),
        amount=amount,
        rate=o.src("itemTaxRate"),
        tax=o.src("itemTaxAmount"),
        unit=o.src("itemUnit"),
        quantity=o.src("itemNum"),
        price=price,
        gross=gross,
        tax_code=o.src("itemCode"),
        line_kind=LINE_KINDS.get(o.value("invoiceLineProperty") or ""),
        policy_flag=_policy(o),
    )


def _differential(items: list[JsonObject], gross: Src) -> tuple[Src, Src] | None:
    """差额征税: a line's non-zero ``deduction`` (扣除额) with the invoice's gross total, as the
    乐企 reader pairs ``kce`` with ``jshj`` (a differential invoice has one line)."""
    for item in items:
        deduction = item.src("deduction")
        if deduction.value is not None and number_or_none(deduction.text) != 0:
            return deduction, gross
    return None


def read_nuonuo(doc: dict[str, Any]) -> RawFapiao:
    """Locate the fields of one Nuonuo invoice object."""
    o = JsonObject(doc, "")
    _check_status(o)
    extra = {k: v for k in EXTRA_KEYS if (v := o.value(k))}
    items = [
        JsonObject(item, f"invoiceItems[{i}].")
        for i, item in enumerate(object_list(doc, "invoiceItems", "line"))
    ]
    gross = o.src("orderAmount")
    number = _number(o, extra)
    red_original = o.src("oldEleInvoiceNumber", "oldInvoiceNo")
    return RawFapiao(
        number=number,
        issued=_issued(o),
        seller=RawParty(name=o.src("saleName"), tax_id=o.src("salerTaxNum")),
        buyer=RawParty(name=o.src("payerName"), tax_id=o.src("payerTaxNo")),
        net_total=o.src("exTaxAmount"),
        tax_total=o.src("taxAmount"),
        gross_total=gross,
        lines=[_line(item, item.path.rstrip(".")) for item in items],
        blue=_blue(o),
        kind=_kind(o.value("invoiceKind")),
        red_original=red_original,
        differential=_differential(items, gross),
        twins=_twins(o, number, red_original),
        extra=extra,
    )


def _twins(o: JsonObject, number: Src, red_original: Src) -> list[tuple[Src, Src]]:
    """The fields that repeat a number read (FORMAT.md §11): on a 数电 electronic invoice,
    which has no ``invoiceCode``, ``invoiceNo`` is the 20-digit number again beside
    ``allElectronicInvoiceNumber``, and ``oldInvoiceNo`` the blue invoice's beside
    ``oldEleInvoiceNumber`` (a paper one's code + 8-digit number is another identity)."""
    if o.value("invoiceCode") is not None:
        return []
    pairs = []
    for used, other in ((number, o.src("invoiceNo")), (red_original, o.src("oldInvoiceNo"))):
        if used.path != other.path:
            pairs.append((used, other))
    return pairs
