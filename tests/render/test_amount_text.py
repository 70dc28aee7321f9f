"""How the renderers write an amount: the currency's decimals, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.render._fmt import amount


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("31989"), 0, "31989"),  # JPY, KRW: ISO 4217 minor unit 0
        (Decimal("0.00"), 0, "0"),  # a zero carried over from CNY is no "0.00" yen
        (Decimal("1000.0"), 0, "1000"),
        (Decimal("-11.11"), 2, "-11.11"),
        (Decimal("5"), 2, "5.00"),
        (Decimal("0.120000"), 2, "0.12"),  # a 税额 printed with six decimals, all zeros beyond fen
        (Decimal("1.005"), 2, "1.005"),  # more decimals than the currency has: never rounded
        (Decimal("10.5"), 0, "10.5"),
    ],
)
def test_an_amount_has_its_currencys_decimals(value: Decimal, places: int, text: str) -> None:
    assert amount(value, places) == text
