"""Reading the texts a fapiao prints: amounts, rates, dates and units.

Amounts are :class:`~decimal.Decimal` throughout; no value ever passes through a float.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from gateway.errors import FieldError

_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})")
"""ASCII digits only; at most 18 integer digits (the spec's number(18,2)) and 20 decimals."""
_CURRENCY_SIGNS = "¥￥ \u3000,，"
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)} | {"．": ".", "－": "-", "＋": "+"}
"""Full-width digits, point and signs (Ｕ+FF10… as CJK input methods type them): the same
number, read as its ASCII form."""
_DROP_SIGNS = str.maketrans(dict.fromkeys(_CURRENCY_SIGNS) | _FULL_WIDTH)
CENT = Decimal("0.01")


def clean(text: str | None) -> str | None:
    """Stripped text, or ``None`` when empty."""
    if text is None:
        return None
    text = text.strip()
    return text or None


def number_or_none(text: str | None) -> Decimal | None:
    """A decimal read from ``text`` (currency signs and thousands separators dropped, full-width
    digits read as ASCII ones), or None."""
    text = clean(text)
    if text is None:
        return None
    if not _NUMBER.fullmatch(text):
        text = text.translate(_DROP_SIGNS)
        if not _NUMBER.fullmatch(text):
            return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        return None
    return value if value.is_finite() else None


def money(value: Decimal) -> Decimal:
    """Drop trailing zeros beyond two decimals (``0.120000`` → ``0.12``); keep real extra digits."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value == value.quantize(CENT):
        return value.quantize(CENT)
    return value


def require_number(text: str | None, path: str) -> Decimal:
    """A decimal from a required numeric field; a :class:`FieldError` naming ``path`` if not."""
    value = number_or_none(text)
    if value is None:
        shown = "empty" if clean(text) is None else repr(text)
        raise FieldError(f"{path} is {shown}, expected a number", field=path, rule="fapiao.number")
    return value


@dataclass(frozen=True, slots=True)
class RateText:
    """A TaxRate text read: a percentage, or a special marker."""

    percent: Decimal | None
    """Rate in percent (``6``), or ``None`` for a text marker."""
    marker: str | None
    """``exempt`` (免税), ``not-subject`` (不征税, ``*``), ``hidden`` (``***``) or None."""


def read_rate(text: str | None) -> RateText | None:
    """Read a rate as printed: ``0.06``, ``0.060000``, ``6%``, ``0%``, ``免税``, ``不征税``, ``*``, ``***``.

    A bare number of 1 or more is taken as a percentage (``6`` → 6 %). ``None`` when unreadable.
    """
    text = clean(text)
    if text is None:
        return None
    if text in {"免税", "免征"}:
        return RateText(Decimal(0), "exempt")
    if text in {"不征税", "不征收", "*"}:
        return RateText(None, "not-subject")
    if text == "***":
        return RateText(None, "hidden")
    if text.endswith(("%", "％")):
        value = number_or_none(text[:-1])
        return None if value is None or value < 0 else RateText(value.normalize() + 0, None)
    value = number_or_none(text)
    if value is None or value < 0:
        return None
    percent = value if value >= 1 else value * 100
    return RateText(_plain(percent), None)


def _plain(value: Decimal) -> Decimal:
    """``6.000000`` → ``6``, ``1.50`` → ``1.5``, without exponent notation."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


_DATE_FORMATS = (
    ("%Y-%m-%d %H:%M:%S", True),
    ("%Y-%m-%dT%H:%M:%S", True),
    ("%Y-%m-%d", False),
    ("%Y年%m月%d日", False),
    ("%Y/%m/%d %H:%M:%S", True),
    ("%Y/%m/%d", False),
)

_ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])?"
)
"""The first three of :data:`_DATE_FORMATS` written in full (two-digit fields, a valid
time): read as ``strptime`` reads them by ``fromisoformat``, without trying the formats one
after the other (``strptime`` costs about 12 µs a try)."""


def read_datetime(text: str | None) -> tuple[dt.date, dt.time | None] | None:
    """Read a fapiao date: ``yyyy-MM-dd HH:mm:ss``, ``yyyy-MM-dd``, ``yyyy年MM月dd日``,
    ``yyyyMMddHHmmssSSS`` (and ``yyyyMMdd``). All are local time in China (UTC+8)."""
    text = clean(text)
    if text is None:
        return None
    if text.isdigit() and len(text) in (8, 14, 17):
        fmt = {8: "%Y%m%d", 14: "%Y%m%d%H%M%S", 17: "%Y%m%d%H%M%S"}[len(text)]
        try:
            stamp = dt.datetime.strptime(text[:14] if len(text) == 17 else text, fmt)
        except ValueError:
            return None
        return stamp.date(), (stamp.time() if len(text) > 8 else None)
    if _ISO_DATE_TIME.fullmatch(text):
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            pass  # no such day: the formats below refuse it too
        else:
            return stamp.date(), (stamp.time() if len(text) > 10 else None)
    for fmt, has_time in _DATE_FORMATS:
        try:
            stamp = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return stamp.date(), (stamp.time() if has_time else None)
    return None
