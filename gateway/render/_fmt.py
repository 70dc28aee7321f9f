"""Number and date text shared by the renderers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

CENT = Decimal("0.01")


def amount(value: Decimal, places: int = 2) -> str:
    """A monetary amount with ``places`` decimals (two; none for a currency without minor
    unit such as JPY, :func:`gateway.model.currencies.amount_places`), or as given when it has
    more that are not all zeros (never rounded: a CNY ``0.00`` is ``0`` in yen)."""
    step = Decimal(1).scaleb(-places)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places and value != value.quantize(step):
        return f"{value:f}"
    return f"{value.quantize(step):f}"


def decimal(value: Decimal) -> str:
    """A quantity, price or rate without exponent and without needless trailing zeros."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def date(value: dt.date) -> str:
    """ISO 8601 calendar date."""
    return value.isoformat()


def time(value: dt.time, offset_minutes: int | None) -> str:
    """``hh:mm:ss`` with the issuer's UTC offset when known."""
    text = value.replace(microsecond=0, tzinfo=None).isoformat()
    if offset_minutes is None:
        return text
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"
