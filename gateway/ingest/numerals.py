"""Chinese financial numerals (大写金额), e.g. ``肆仟肆佰肆拾玖圆整`` → 4449.00.

The 价税合计（大写） on every fapiao is the one amount printed twice; reading it lets the OFD
reader cross-check a gross total that the tags carry only as ``¥``.
"""

from __future__ import annotations

from decimal import Decimal

_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_DIGITS.update({"〇": 0, "两": 2})
_SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
_NEGATIVE_PREFIXES = ("（负数）", "(负数)", "负数", "负")


def read_chinese_amount(text: str) -> Decimal | None:
    """The amount written in Chinese financial numerals, or ``None`` when not readable."""
    text = text.strip().replace(" ", "")
    sign = 1
    for prefix in _NEGATIVE_PREFIXES:
        if text.startswith(prefix):
            sign, text = -1, text[len(prefix) :]
            break
    text = text.rstrip("整正")
    yuan_part, sep, fraction = text.partition("圆")
    if not sep:
        yuan_part, sep, fraction = text.partition("元")
    if not sep:
        yuan_part, fraction = "", text
    yuan = _integer(yuan_part)
    cents = _fraction(fraction)
    if yuan is None or cents is None or (not yuan_part and not fraction):
        return None
    return sign * (Decimal(yuan) + Decimal(cents) / 100).quantize(Decimal("0.01"))


def _integer(text: str) -> int | None:
    yi = wan = section = digit = 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (digit or (1 if ch == "拾" else 0)) * _SMALL_UNITS[ch]
            digit = 0
        elif ch == "万":
            wan = (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            yi = (yi + wan + section + digit) * 100_000_000
            wan = section = digit = 0
        else:
            return None
    return yi + wan + section + digit


def _fraction(text: str) -> int | None:
    cents = 0
    digit = 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch == "角":
            cents += digit * 10
            digit = 0
        elif ch == "分":
            cents += digit
            digit = 0
        else:
            return None
    return cents
