"""Hand-built fapiao-shaped invoices (as a parser returns them) for the mapping tests."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

from gateway.model import (
    INVOICE,
    Address,
    Identifier,
    IdScheme,
    Invoice,
    Item,
    Line,
    Party,
    PrecedingInvoice,
    TaxCase,
    Totals,
)

SELLER_USCC = "91310115MA1K4ABC12"
BUYER_NAME = "Acme Trading Pte. Ltd."


def D(text: str | int) -> Decimal:
    return Decimal(str(text))


def line(
    n: int,
    net: str,
    tax: str | None,
    *,
    rate: str | None = "13",
    case: TaxCase = TaxCase.STANDARD,
    qty: str | None = "1",
    price: str | None = None,
    discount: bool = False,
    name: str = "*电子计算机*笔记本电脑",
) -> Line:
    """One fapiao line as printed (negative amounts on red-letter fapiao and discounts)."""
    amount = D(net)
    tax_amount = D(tax) if tax is not None else None
    quantity = D(qty) if qty is not None else D(1)
    return Line(
        id=str(n),
        quantity=quantity,
        unit_code="H87",
        net_amount=amount,
        price=D(price) if price is not None else abs(amount / quantity),
        item=Item(name=name, classifications=[("1090511030000000000", "ZZZ", None)]),
        vat_category="S",
        vat_rate=D(rate) if rate is not None else None,
        tax_amount=tax_amount,
        gross_amount=amount + (tax_amount or 0),
        tax_case=case,
        is_discount=discount,
        quantity_given=qty is not None,
    )


def fapiao(
    lines: list[Line], *, red: bool = False, number: str = "24312000000012345678"
) -> Invoice:
    """A fapiao invoice with totals summed from its lines."""
    net = sum((ln.net_amount for ln in lines), D(0))
    tax = sum((ln.tax_amount or D(0) for ln in lines), D(0))
    return Invoice(
        number=number,
        issue_date=dt.date(2026, 11, 20),
        issue_time=dt.time(10, 15, 0),
        timezone_offset_minutes=480,
        type_code="381" if red else INVOICE,
        currency="CNY",
        seller=Party(
            name="上海临港示例科技有限公司",
            identifiers=[Identifier(SELLER_USCC, IdScheme.USCC)],
            address=Address(street="上海市浦东新区临港大道1号", country="CN"),
        ),
        buyer=Party(name=BUYER_NAME),
        lines=lines,
        totals=Totals(
            line_net=net, tax_exclusive=net, tax=tax, tax_inclusive=net + tax, payable=net + tax
        ),
        notes=["Contract LG-2026-001"],
        preceding_invoices=[PrecedingInvoice("24312000000011111111")] if red else [],
    )


def partners_dict(**overrides: object) -> dict[str, object]:
    """A directory with one SG buyer and the exporter."""
    partner: dict[str, object] = {
        "buyer_name": BUYER_NAME,
        "endpoint": "0195:SGUEN200212345Z",
        "country": "SG",
        "street": "1 Harbourfront Avenue",
        "city": "Singapore",
        "postcode": "098632",
        "profile": "pint-sg",
    }
    partner.update(overrides)
    return {
        "partners": [partner],
        "exporters": [{"seller_id": SELLER_USCC, "endpoint": "0199:5493001KJTIIGC8Y1R12"}],
    }


def cases() -> dict[str, Invoice]:
    """One fapiao per tax case and mapping rule, as a parser would return it."""
    return {
        "standard": fapiao(
            [
                line(1, "1000.00", "130.00", qty="2", price="500"),
                line(2, "200.00", "12.00", rate="6"),
            ]
        ),
        "simplified": fapiao([line(1, "100.00", "3.00", rate="3", case=TaxCase.SIMPLIFIED)]),
        "export": fapiao([line(1, "1000.00", "0.00", rate="0", case=TaxCase.ZERO_RATE_EXPORT)]),
        "zero": fapiao([line(1, "50.00", "0.00", rate="0", case=TaxCase.ZERO_RATE)]),
        "exempt": fapiao([line(1, "1000.00", None, rate="0", case=TaxCase.EXEMPT)]),
        "not-subject": fapiao([line(1, "1000.00", None, rate=None, case=TaxCase.NOT_SUBJECT)]),
        "mixed-o": fapiao(
            [
                line(1, "1000.00", "130.00"),
                line(2, "500.00", None, rate=None, case=TaxCase.NOT_SUBJECT),
            ]
        ),
        "differential": fapiao([line(1, "9660.38", "339.62", rate="6", case=TaxCase.DIFFERENTIAL)]),
        "red": fapiao([line(1, "-1000.00", "-130.00", qty="-2", price="500")], red=True),
        "discount": fapiao(
            [
                line(1, "1000.00", "130.00", qty="2", price="500"),
                line(2, "-100.00", "-13.00", qty=None, discount=True),
            ]
        ),
        "doc-discount": fapiao(
            [
                line(1, "1000.00", "130.00"),
                line(2, "200.00", "12.00", rate="6"),
                line(3, "-50.00", "-6.50", qty=None, discount=True),
            ]
        ),
        # 180 lines of 0.10 taxed 0.02: 3.60 printed against 2.34 at 13 %, a gap of 1.26 beyond
        # BR-S-09's one unit but within the tax bureau's 1.27 (FORMAT.md §6)
        "rounding": fapiao([line(i, "0.10", "0.02") for i in range(1, 181)]),
        "red-discount": fapiao(
            [
                line(1, "-1000.00", "-130.00", qty="-2", price="500"),
                line(2, "100.00", "13.00", qty=None, discount=True),
            ],
            red=True,
        ),
    }


def ubl_view(inv: Invoice) -> Invoice:
    """The invoice without the fields UBL does not carry (fapiao-side line facts, FX rate)."""
    out = copy.deepcopy(inv)
    out.exchange_rate = None
    for line in out.lines:
        line.tax_amount = line.gross_amount = line.source_rate_text = None
        line.tax_case, line.is_discount, line.quantity_given = TaxCase.STANDARD, False, True
    return out
