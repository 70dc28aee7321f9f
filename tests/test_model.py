"""The canonical model serialises without floats and knows credit notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.model import (
    CREDIT_NOTE,
    Endpoint,
    Invoice,
    Item,
    Line,
    Party,
    Totals,
    to_jsonable,
)


def _invoice(type_code: str = "380") -> Invoice:
    line = Line(
        id="1",
        quantity=Decimal("2"),
        unit_code="H87",
        net_amount=Decimal("200.00"),
        price=Decimal("100.00"),
        item=Item(name="*信息技术服务*技术服务费"),
        vat_category="S",
        vat_rate=Decimal("6"),
    )
    total = Decimal("200.00")
    return Invoice(
        number="24112000000048542163",
        issue_date=dt.date(2024, 5, 28),
        type_code=type_code,
        currency="CNY",
        seller=Party(name="卖方"),
        buyer=Party(name="Buyer Pte Ltd", endpoint=Endpoint.parse("0195:SGUEN200212345Z")),
        lines=[line],
        totals=Totals(
            line_net=total,
            tax_exclusive=total,
            tax=Decimal("12.00"),
            tax_inclusive=Decimal("212.00"),
            payable=Decimal("212.00"),
        ),
    )


def test_amounts_serialise_as_strings() -> None:
    data = to_jsonable(_invoice())
    assert data["totals"]["tax_inclusive"] == "212.00"
    assert data["lines"][0]["price"] == "100.00"
    assert data["buyer"]["endpoint"] == {"scheme": "0195", "value": "SGUEN200212345Z"}
    assert data["issue_date"] == "2024-05-28"


def test_credit_note_is_a_type_code() -> None:
    assert not _invoice().is_credit_note
    assert _invoice(CREDIT_NOTE).is_credit_note


def test_endpoint_parse_rejects_missing_scheme() -> None:
    import pytest

    with pytest.raises(ValueError, match="scheme:value"):
        Endpoint.parse("SGUEN200212345Z")
