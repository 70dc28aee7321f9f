"""How readable documents write numbers: amounts with their currency, rates as percentages."""

from __future__ import annotations

from decimal import Decimal


def amount(value: Decimal | int | float | None, currency: str | None = None) -> str:
    """``1,234.50 SGD`` (two decimals at least, the value's own when it has more)."""
    if value is None:
        return ""
    value = Decimal(str(value))
    exponent = value.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    text = f"{value:,.{places}f}"
    return f"{text} {currency}" if currency else text


def number(value: Decimal | int | float | None) -> str:
    """A quantity as written (no exponent, no trailing zeros beyond the unit)."""
    if value is None:
        return ""
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value: Decimal | int | float | None) -> str:
    """``9 %``; empty when there is no rate."""
    return "" if value is None else f"{number(value)} %"
