"""How readable documents write numbers: amounts with their currency, rates as percentages."""

from __future__ import annotations

from decimal import Decimal

from gateway.model.currencies import amount_places


def amount(value: Decimal | int | float | None, currency: str | None = None) -> str:
    """``1,234.50 SGD``, ``31,989 JPY``: the currency's decimals (two, none for a currency
    without minor unit), the value's own when it has more."""
    if value is None:
        return ""
    value = Decimal(str(value))
    exponent = value.as_tuple().exponent
    least = amount_places(currency) if currency else 2
    places = max(least, -exponent) if isinstance(exponent, int) else least
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
