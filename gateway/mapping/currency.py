"""Conversion from CNY (the fapiao's only currency) into a partner's invoice currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.000001")


class Converter:
    """Divides CNY amounts by the partner's rate (CNY per unit); identity without a rate."""

    def __init__(self, rate: Decimal | None = None) -> None:
        self.rate = rate

    def amount(self, cny: Decimal) -> Decimal:
        """A monetary amount in the document currency, rounded half up to cents."""
        value = cny if self.rate is None else cny / self.rate
        return value.quantize(CENT, rounding=ROUND_HALF_UP)

    def price(self, cny: Decimal, quantity: Decimal = Decimal(1)) -> Decimal:
        """A unit price: unchanged in CNY, else precise enough that quantity × price stays
        within half a cent of the converted line amount (BT-146 has no decimal limit)."""
        if self.rate is None:
            return cny
        digits = len(str(int(abs(quantity)))) if quantity else 1
        step = PRICE_STEP.scaleb(-max(0, digits - 2))
        return (cny / self.rate).quantize(step, rounding=ROUND_HALF_UP)
