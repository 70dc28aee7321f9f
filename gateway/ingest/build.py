"""Turn a :class:`RawFapiao` (texts as printed) into the canonical invoice and fapiao facts."""

from __future__ import annotations

import re
from decimal import Decimal

from gateway.errors import FieldError
from gateway.ingest.checks import check_line, check_totals
from gateway.ingest.numerals import read_chinese_amount
from gateway.ingest.parties import build_party, looks_foreign, seller_payment
from gateway.ingest.record import RawFapiao, RawLine, Src
from gateway.ingest.taxcase import EXEMPTION_TEXT, TaxContext, line_tax
from gateway.ingest.types import FapiaoFacts, ParseWarning
from gateway.ingest.values import (
    money,
    number_or_none,
    read_datetime,
    read_rate,
    require_number,
    unit_code,
)
from gateway.model.invoice import (
    CREDIT_NOTE,
    INVOICE,
    Invoice,
    Item,
    ItemAttribute,
    Line,
    PrecedingInvoice,
    TaxCase,
    Totals,
    VatBreakdown,
)

CHINA_OFFSET_MINUTES = 480
EXPORT_INDUSTRY_LABELS = frozenset({"20", "21", "22", "28", "30"})
"""企业行业性质 labels of exporters: 生产型/外贸型出口, 外贸综合服务, 电商出口, 零税率应税服务."""

_BLUE_IN_REMARK = re.compile(r"被红冲蓝字数电(?:发票|票)?号码[:：]?\s*([0-9A-Za-z]{8,32})")
_CONFIRMATION_IN_REMARK = re.compile(r"红字发票信息确认单编号[:：]?\s*([0-9A-Za-z]{8,32})")
_LEGACY_BLUE_IN_REMARK = re.compile(r"对应正数发票代码[:：]?\s*(\d{10,12})\s*号码[:：]?\s*(\d{8})")
_PRICE_STEP = Decimal("0.00000001")


class _Warn:
    """Collects warnings; one helper so every warning names its field."""

    def __init__(self, sink: list[ParseWarning]) -> None:
        self.sink = sink

    def __call__(self, code: str, message: str, field: str | None = None) -> None:
        self.sink.append(ParseWarning(code, message, field))


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


def _differential(raw: RawFapiao, warn: _Warn) -> tuple[Decimal, Decimal] | None:
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


def _optional_number(src: Src | None, warn: _Warn, allowed: set[str]) -> Decimal | None:
    """A number, or None for empty / the allowed markers; other text is warned about."""
    if src is None or src.value is None or src.value in allowed:
        return None
    value = number_or_none(src.text)
    if value is None:
        warn("fapiao.number", f"{src.path} is {src.text!r}, not a number; ignored", src.path)
    return value


def _plain(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _quantity_and_price(
    raw: RawLine, amount: Decimal, warn: _Warn
) -> tuple[Decimal, Decimal, bool]:
    qty = _optional_number(raw.quantity, warn, set())
    price = _optional_number(raw.price, warn, set())
    if qty is not None and qty != 0 and price is None:
        return qty, _plain((amount / qty).quantize(_PRICE_STEP)), True
    if price is not None and price != 0 and qty is None:
        return _plain((amount / price).quantize(_PRICE_STEP)), price, True
    if qty is None or price is None:
        return Decimal(1), amount, False
    return qty, price, True


def _build_line(
    raw: RawLine, index: int, ctx: TaxContext, is_red: bool, warn: _Warn
) -> tuple[Line, str | None]:
    amount = money(require_number(raw.amount.text, raw.amount.path))
    rate = read_rate(raw.rate.text)
    if rate is None:
        raise FieldError(
            f"{raw.rate.path} is {raw.rate.text!r}: expected a rate such as 0.06, 6%, 免税, "
            "不征税, * or ***",
            field=raw.rate.path,
            rule="fapiao.rate",
        )
    tax_raw = _optional_number(raw.tax, warn, {"***", "*"})
    tax = None if tax_raw is None else money(tax_raw)
    decided = line_tax(rate, tax, ctx, raw.policy_flag)
    if decided.note:
        warn("fapiao.rate-guess", f"line {index}: {decided.note}", raw.rate.path)
    qty, price, given = _quantity_and_price(raw, amount, warn)
    unit_text = raw.unit.value if raw.unit else None
    unit, _known = unit_code(unit_text)
    attributes: list[ItemAttribute] = []
    spec = raw.spec.value if raw.spec else None
    if spec:
        attributes.append(ItemAttribute("Specification", spec))
    if unit_text:
        attributes.append(ItemAttribute("Unit", unit_text))
    code = raw.tax_code.value if raw.tax_code else None
    gross_raw = _optional_number(raw.gross, warn, {"***", "*"})
    gross = money(gross_raw) if gross_raw is not None else amount + (tax or 0)
    is_discount = raw.line_kind == "01" or (not is_red and amount < 0 and not given)
    line = Line(
        id=str(index),
        quantity=qty,
        unit_code=unit,
        net_amount=amount,
        price=price,
        item=Item(
            name=raw.name.value or "",
            classifications=[(code, "ZZZ", None)] if code else [],
            attributes=attributes,
        ),
        vat_category=decided.category,
        vat_rate=decided.rate,
        tax_amount=tax,
        gross_amount=gross,
        tax_case=decided.case,
        source_rate_text=raw.rate.value,
        is_discount=is_discount,
        quantity_given=given,
    )
    if raw.name.value is None:
        warn("fapiao.item-name", f"line {index} has no item name", raw.name.path)
    return line, unit_text


def _breakdown(lines: list[Line]) -> list[VatBreakdown]:
    groups: dict[tuple[str, Decimal | None], VatBreakdown] = {}
    for line in lines:
        key = (line.vat_category, line.vat_rate)
        group = groups.get(key)
        if group is None:
            group = groups[key] = VatBreakdown(
                category=line.vat_category,
                taxable_amount=Decimal("0.00"),
                tax_amount=Decimal("0.00"),
                rate=line.vat_rate,
                exemption_reason=EXEMPTION_TEXT.get(line.tax_case),
            )
        group.taxable_amount += line.net_amount
        group.tax_amount += line.tax_amount or 0
    return list(groups.values())


def _is_red(raw: RawFapiao, net: Decimal | None, warn: _Warn) -> bool:
    if raw.blue is not None:
        return not raw.blue
    evidence = []
    if raw.red_original is not None and raw.red_original.value:
        evidence.append("a RedEInvoice block")
    if net is not None and net < 0:
        evidence.append("a negative net total")
    remark = raw.remark.value if raw.remark else None
    if remark and _BLUE_IN_REMARK.search(remark):
        evidence.append("the remark")
    words = raw.gross_in_words.value if raw.gross_in_words else None
    if words and "负数" in words:
        evidence.append("（负数） in the amount in words")
    if evidence:
        warn("fapiao.red-inferred", "blue/red flag empty; red inferred from " + ", ".join(evidence))
        return True
    return False


def _red_references(raw: RawFapiao, is_red: bool, warn: _Warn) -> tuple[str | None, str | None]:
    original = raw.red_original.value if raw.red_original else None
    confirmation = raw.red_confirmation.value if raw.red_confirmation else None
    if not is_red:
        if original or confirmation:
            path = raw.red_original.path if raw.red_original else None
            warn(
                "fapiao.red-block-on-blue",
                "a blue fapiao carries red-letter references; ignored",
                path,
            )
        return None, None
    remark = (raw.remark.value if raw.remark else None) or ""
    if original is None and (found := _BLUE_IN_REMARK.search(remark)):
        original = found.group(1)
    if original is None and (legacy := _LEGACY_BLUE_IN_REMARK.search(remark)):
        original = legacy.group(1) + legacy.group(2)
    if confirmation is None and (conf := _CONFIRMATION_IN_REMARK.search(remark)):
        confirmation = conf.group(1)
    if original is None:
        warn("red.no-blue-reference", "red-letter fapiao names no blue invoice it reverses")
    return original, confirmation


def _gross(raw: RawFapiao, net: Decimal, tax: Decimal, warn: _Warn) -> Decimal:
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
        warn(
            "fapiao.gross-recomputed",
            f"gross total missing; net + tax = {printed} used",
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


def _check_number(raw: RawFapiao, number: str, year: int, warn: _Warn) -> None:
    if "invoice_code" in raw.extra:
        return
    if len(number) == 20 and number.isdigit() and number[:2] != f"{year % 100:02d}":
        warn(
            "fapiao.number-year",
            f"invoice number {number} does not start with the issue "
            f"year's last two digits ({year % 100:02d})",
            raw.number.path,
        )


def build(
    raw: RawFapiao, warnings: list[ParseWarning], max_lines: int
) -> tuple[Invoice, FapiaoFacts]:
    """The canonical invoice and the fapiao facts for one located fapiao."""
    warn = _Warn(warnings)
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
    _check_number(raw, number, issued[0].year, warn)
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
    is_red = _is_red(raw, net, warn)
    original, confirmation = _red_references(raw, is_red, warn)

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
    ctx = TaxContext(special, export_hint, differential)
    lines = []
    for index, raw_line in enumerate(raw.lines, start=1):
        line, _unit = _build_line(raw_line, index, ctx, is_red, warn)
        check_line(line, raw_line.path, warnings)
        lines.append(line)
    totals = Totals(
        line_net=sum((ln.net_amount for ln in lines), Decimal("0.00")),
        tax_exclusive=net,
        tax=tax,
        tax_inclusive=gross,
        payable=gross,
    )
    check_totals(lines, totals, is_red, warnings)
    remark = raw.remark.value if raw.remark else None
    invoice = Invoice(
        number=number,
        issue_date=issued[0],
        issue_time=issued[1],
        timezone_offset_minutes=CHINA_OFFSET_MINUTES,
        type_code=CREDIT_NOTE if is_red else INVOICE,
        currency="CNY",
        seller=seller,
        buyer=buyer,
        lines=lines,
        totals=totals,
        vat_breakdown=_breakdown(lines),
        notes=[remark] if remark else [],
        preceding_invoices=[PrecedingInvoice(original)] if original else [],
        payment=seller_payment(raw.seller),
    )
    facts = FapiaoFacts(
        kind=raw.kind,
        taxpayer_type=raw.taxpayer_type,
        is_red=is_red,
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
