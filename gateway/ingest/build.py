"""Turn a :class:`RawFapiao` (texts as printed) into the canonical invoice and fapiao facts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from gateway.errors import FieldError
from gateway.ingest.checks import check_line, check_totals
from gateway.ingest.lines import breakdown, build_line
from gateway.ingest.numerals import read_chinese_amount
from gateway.ingest.parties import build_party, looks_foreign, seller_payment
from gateway.ingest.record import RawFapiao, Src
from gateway.ingest.redletter import is_red, red_references
from gateway.ingest.taxcase import TaxContext
from gateway.ingest.types import FapiaoFacts, ParseWarning, Warn
from gateway.ingest.values import (
    money,
    number_or_none,
    read_datetime,
    require_number,
)
from gateway.model.invoice import (
    CREDIT_NOTE,
    INVOICE,
    Invoice,
    PrecedingInvoice,
    TaxCase,
    Totals,
)

CHINA_OFFSET_MINUTES = 480
EXPORT_INDUSTRY_LABELS = frozenset({"20", "21", "22", "28", "30"})
"""企业行业性质 labels of exporters: 生产型/外贸型出口, 外贸综合服务, 电商出口, 零税率应税服务."""


def _label_codes(raw: RawFapiao, kind: str) -> list[str]:
    codes: list[str] = []
    for label_type, code in raw.labels:
        if kind in label_type:
            codes.extend(
                c.strip()
                for c in re.split(r"[,，]", code)
                if c.strip().isascii() and c.strip().isalnum()
            )
    return codes


def _differential(raw: RawFapiao, warn: Warn) -> tuple[Decimal, Decimal] | None:
    if raw.differential is None:
        return None
    deduction, sales = raw.differential
    if deduction.value is None and sales.value is None:
        return None
    d, s = number_or_none(deduction.text), number_or_none(sales.text)
    if d is None or s is None:
        bad = deduction if d is None else sales
        warn("fapiao.number", f"{bad.path} is {bad.text!r}, not a number; ignored", bad.path)
        return None
    return money(d), money(s)


def _gross(raw: RawFapiao, net: Decimal, tax: Decimal, warn: Warn) -> Decimal:
    printed = number_or_none(raw.gross_total.text)
    words = raw.gross_in_words.value if raw.gross_in_words else None
    in_words = read_chinese_amount(words) if words else None
    if printed is None:
        if raw.gross_total.value is not None and raw.gross_total.value not in {"¥", "￥"}:
            raise FieldError(
                f"{raw.gross_total.path} is {raw.gross_total.text!r}, expected a number",
                field=raw.gross_total.path,
                rule="fapiao.number",
            )
        printed = net + tax
        if in_words is not None and in_words != printed:
            where = raw.gross_in_words.path if raw.gross_in_words else raw.gross_total.path
            raise FieldError(
                f"{raw.gross_total.path} prints no amount (the OFD shows only ¥), and net + tax "
                f"= {printed} differs from the amount in words {words} = {in_words}: the net or "
                "the tax total was not read as printed (FORMAT.md §13.15)",
                field=where,
                rule="fapiao.gross-words",
            )
        warn(
            "fapiao.gross-recomputed",
            f"gross total missing; net + tax = {printed} used"
            + (", as the amount in words says" if in_words is not None else ""),
            raw.gross_total.path,
        )
    if words and in_words is None:
        warn(
            "fapiao.amount-in-words",
            f"amount in words {words!r} not readable",
            raw.gross_in_words.path if raw.gross_in_words else None,
        )
    elif in_words is not None and in_words != printed:
        warn(
            "fapiao.amount-in-words",
            f"amount in words {words} = {in_words} ≠ gross {printed}",
            raw.gross_in_words.path if raw.gross_in_words else None,
        )
    return money(printed)


def _with_generated_time(
    issued: tuple[dt.date, dt.time | None], generated: Src | None
) -> tuple[dt.date, dt.time | None]:
    """Take the time from 发票生成时间 when 开票日期 has none and both name the same day."""
    if issued[1] is not None or generated is None:
        return issued
    other = read_datetime(generated.text)
    if other is not None and other[0] == issued[0] and other[1] is not None:
        return issued[0], other[1]
    return issued


def _check_twins(twins: list[tuple[Src, Src]], warn: Warn) -> None:
    """Warn, naming both fields, where two fields that state the same fact disagree (dates
    compared as dates: 开票日期 ``2023-02-23 10:08:05`` and 发票生成时间 ``2023-02-23`` agree);
    the first of the pair is the one used, as before."""
    for used, other in twins:
        if not used.value or not other.value or used.path == other.path:
            continue
        a, b = read_datetime(used.value), read_datetime(other.value)
        if (a[0] == b[0]) if a is not None and b is not None else used.value == other.value:
            continue
        warn(
            "fapiao.fields-disagree",
            f"{other.path} {other.value!r} differs from {used.path} {used.value!r}; they should "
            f"state the same (FORMAT.md), and {used.path} is used: check the fapiao",
            other.path,
        )


def _check_identity(raw: RawFapiao, number: str, year: int, warn: Warn) -> None:
    """STA issuing rules on the number (20 digits, starting with the year) and on 专票 buyers."""
    if "invoice_code" not in raw.extra:  # legacy code + number follows other rules
        if len(number) != 20 or not number.isdigit():
            warn(
                "sta.number-format", f"invoice number {number!r} is not 20 digits", raw.number.path
            )
        elif number[:2] != f"{year % 100:02d}":
            warn(
                "sta.number-year",
                f"invoice number {number} does not start with the issue year's last two "
                f"digits ({year % 100:02d})",
                raw.number.path,
            )
    if raw.kind == "01" and not raw.buyer.tax_id.value:
        warn(
            "sta.special-needs-buyer-id",
            "a 增值税专用发票 (kind 01) must name the buyer's taxpayer id",
            raw.buyer.tax_id.path,
        )


def build(
    raw: RawFapiao, warnings: list[ParseWarning], max_lines: int
) -> tuple[Invoice, FapiaoFacts]:
    """The canonical invoice and the fapiao facts for one located fapiao."""
    warn = Warn(warnings)
    number = raw.number.value
    if number is None:
        raise FieldError(
            f"{raw.number.path} is missing: no invoice number",
            field=raw.number.path,
            rule="fapiao.required",
        )
    issued = read_datetime(raw.issued.text)
    if issued is None:
        raise FieldError(
            f"{raw.issued.path} is {raw.issued.text!r}: expected yyyy-MM-dd HH:mm:ss, "
            "yyyy-MM-dd or yyyy年MM月dd日",
            field=raw.issued.path,
            rule="fapiao.date",
        )
    issued = _with_generated_time(issued, raw.generated)
    _check_identity(raw, number, issued[0].year, warn)
    _check_twins(raw.twins, warn)
    if not raw.lines:
        raise FieldError(
            "the fapiao has no lines", field="IssuItemInformation", rule="fapiao.lines"
        )
    if len(raw.lines) > max_lines:
        raise FieldError(
            f"the fapiao has {len(raw.lines)} lines, more than {max_lines}",
            field="IssuItemInformation",
            rule="fapiao.max-lines",
        )
    net = money(require_number(raw.net_total.text, raw.net_total.path))
    tax = money(require_number(raw.tax_total.text, raw.tax_total.path))
    gross = _gross(raw, net, tax, warn)
    red = is_red(raw, net, warn)
    original, confirmation = red_references(raw, red, warn)

    special = next(iter(_label_codes(raw, "特定征税方式")), None)
    industry = _label_codes(raw, "企业行业性质")
    seller, _ = build_party(raw.seller, "seller", warnings, domestic=True)
    buyer, _ = build_party(raw.buyer, "buyer", warnings, domestic=False)
    export_hint = (
        special == "02"
        or bool(EXPORT_INDUSTRY_LABELS.intersection(industry))
        or looks_foreign(raw.buyer)
        or raw.export_policy in {"01", "02", "03"}
    )
    differential = _differential(raw, warn)
    ctx = TaxContext(special, export_hint, differential, raw.export_policy)
    lines = []
    for index, raw_line in enumerate(raw.lines, start=1):
        line = build_line(raw_line, index, ctx, red, warn)
        check_line(line, raw_line.path, warnings)
        lines.append(line)
    totals = Totals(
        line_net=sum((ln.net_amount for ln in lines), Decimal("0.00")),
        tax_exclusive=net,
        tax=tax,
        tax_inclusive=gross,
        payable=gross,
    )
    check_totals(lines, totals, red, warnings)
    remark = raw.remark.value if raw.remark else None
    invoice = Invoice(
        number=number,
        issue_date=issued[0],
        issue_time=issued[1],
        timezone_offset_minutes=CHINA_OFFSET_MINUTES,
        type_code=CREDIT_NOTE if red else INVOICE,
        currency="CNY",
        seller=seller,
        buyer=buyer,
        lines=lines,
        totals=totals,
        vat_breakdown=breakdown(lines),
        notes=[remark] if remark else [],
        preceding_invoices=[PrecedingInvoice(original)] if original else [],
        payment=seller_payment(raw.seller),
    )
    facts = FapiaoFacts(
        kind=raw.kind,
        taxpayer_type=raw.taxpayer_type,
        is_red=red,
        red_confirmation_no=confirmation,
        special_tax_method=special,
        industry_labels=industry,
        is_export_hint=export_hint,
        drawer=raw.drawer,
        tax_bureau_code=raw.tax_bureau_code,
        tax_bureau_name=raw.tax_bureau_name,
        version=raw.version,
        region_tag=raw.region_tag,
        differential=differential,
        remark=remark,
        special=list(raw.special),
        extra=_extra(raw),
    )
    if (
        any(ln.tax_case == TaxCase.NOT_SUBJECT for ln in lines)
        and len({ln.vat_category for ln in lines}) > 1
    ):
        warn(
            "fapiao.mixed-not-subject", "not-subject lines mixed with taxed lines (EN 16931 BR-O-*)"
        )
    return invoice, facts


def _extra(raw: RawFapiao) -> dict[str, str]:
    extra = dict(raw.extra)
    for key, src in (
        ("buyer_bank_name", raw.buyer.bank_name),
        ("buyer_bank_account", raw.buyer.bank_account),
    ):
        if src is not None and src.value:
            extra.setdefault(key, src.value)
    return extra
