"""``shallow_copy`` makes what ``dataclasses.replace(obj)`` makes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from gateway.mapping.copies import shallow_copy
from gateway.model import AllowanceCharge, Item, Line, Totals


@dataclasses.dataclass(slots=True)
class KeywordOnly:
    a: int
    b: list[int] = dataclasses.field(default_factory=list, kw_only=True)


@dataclasses.dataclass
class NotInInit:
    a: int
    b: int = dataclasses.field(default=7, init=False)


@dataclasses.dataclass
class Single:
    a: list[int]


def _same(obj: object) -> None:
    copy = shallow_copy(obj)
    assert copy == dataclasses.replace(obj)  # type: ignore[type-var]
    assert copy is not obj
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if f.init:
            assert getattr(copy, f.name) is getattr(obj, f.name), f.name


def test_model_classes() -> None:
    line = Line(
        id="1",
        quantity=Decimal(2),
        unit_code="C62",
        net_amount=Decimal("10.00"),
        price=Decimal(5),
        item=Item(name="笔记本电脑"),
        vat_category="S",
        vat_rate=Decimal(13),
        allowances=[AllowanceCharge(is_charge=False, amount=Decimal(1))],
    )
    _same(line)
    _same(line.allowances[0])
    one = Decimal(1)
    _same(Totals(line_net=one, tax_exclusive=one, tax=one, tax_inclusive=one, payable=one))


def test_classes_positional_arguments_cannot_copy() -> None:
    _same(KeywordOnly(1, b=[2]))
    _same(Single([1]))
    changed = NotInInit(1)
    changed.b = 8
    assert shallow_copy(changed).b == dataclasses.replace(changed).b == 7
