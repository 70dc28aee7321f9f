"""The well-known structured statements an exporter writes into the 备注 (Remark).

Exporters customarily write the exchange rate, the contract number, the customs declaration
number and the buyer's order number into the remark (FORMAT.md §8); a red-letter fapiao
carries its confirmation-form number there. :func:`read_remark` extracts those forms; the
remark itself still travels unchanged as the note (BT-22).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

CURRENCY_NAMES = {
    "美元": "USD",
    "美金": "USD",
    "港币": "HKD",
    "港元": "HKD",
    "新加坡元": "SGD",
    "新币": "SGD",
    "欧元": "EUR",
    "日元": "JPY",
    "英镑": "GBP",
    "澳元": "AUD",
    "加元": "CAD",
    "马来西亚林吉特": "MYR",
}
"""Chinese currency names an exporter may write instead of the ISO code."""

_ISO_4217_CODES = """AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNH CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD
JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA
XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA YER ZAR ZMW ZWG"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())
"""ISO 4217 alphabetic codes (the list the Peppol and PINT rules check BT-5 against)."""
CURRENCY_SIGNS = {"US$": "USD", "HK$": "HKD", "S$": "SGD", "€": "EUR", "£": "GBP"}
"""Currency signs that name one currency (``$`` and ``¥`` alone do not)."""

_CNY = r"(?:CNY|RMB|人民币|元)"
_CUR = r"(?P<cur>(?<![A-Za-z])(?-i:[A-Z]{3})(?![A-Za-z])|" + "|".join(CURRENCY_NAMES) + ")"
_NUM = r"(?P<value>(?<![0-9])[0-9]++(?:\.[0-9]++)?+)"
_UNITS = r"(?P<units>(?<![0-9])[0-9]++(?:\.[0-9]++)?+)"
_WHOLE = r"(?![0-9])(?!\.[0-9])"
"""After a number: it ends here (a pattern may not take 7.123 of 7.1234)."""
_RATIO_OR_NUM = (
    rf"(?:(?P<ratio>(?<![0-9])[0-9]++){_WHOLE}\s*+[:：]\s*+)?{_NUM}{_WHOLE}"
    r"(?!\s*+[:：]\s*+[0-9])"
)
"""A rate after a currency pair or name: ``7.1234``, or the ratio ``1:7.1234``."""
_RATE_FORMS = tuple(
    re.compile(form, re.IGNORECASE)
    for form in (
        # 1 USD = 7.1234 CNY · 100美元=712.34人民币 · 1美元兑7.1234元 · 美元兑人民币 1:7.1234
        rf"(?:{_UNITS}\s*+)?{_CUR}\s*+(?:[=＝]|兑换?)\s*+(?:人民币\s*+)?{_RATIO_OR_NUM}\s*+{_CNY}?",
        # USD 1 = CNY 7.1234
        rf"{_CUR}\s*+{_UNITS}\s*+[=＝]\s*+{_CNY}\s*+{_NUM}",
        # USD/CNY 7.1012 · USDCNY: 7.1012 · USD/CNY 1:7.1234
        rf"(?P<cur>(?<![A-Za-z])(?-i:[A-Z]{{3}}))\s*+(?:/\s*+)?CNY\s*+(?:[:：=＝]\s*+)?{_RATIO_OR_NUM}",
        # 美元汇率：7.1234 · USD rate 7.12 · 美元汇率 1:7.1234
        rf"{_CUR}\s*+(?:汇率|exchange\s*+rate|rate)\s*+(?:[:：]\s*+)?{_RATIO_OR_NUM}",
        # 汇率：7.1234（USD/CNY）
        rf"(?:汇率|exchange\s*+rate)\s*+(?:[:：]\s*+)?{_NUM}\s*+(?:[（(]\s*+)?{_CUR}\s*+/\s*+"
        r"(?:CNY|RMB)",
    )
)
_INVERSE_FORMS = tuple(
    re.compile(form, re.IGNORECASE)
    for form in (
        # 1 CNY = 0.1887 SGD · 1元=0.19新加坡元 · 100 RMB = 14.08 USD · 1 RMB : 0.14 USD ·
        # 人民币兑美元 1:0.1408
        rf"(?:{_UNITS}\s*+)?{_CNY}\s*+(?:[=＝:：]|兑换?)\s*+{_NUM}{_WHOLE}\s*+{_CUR}",
        rf"{_CNY}\s*+兑换?\s*+{_CUR}\s*+(?:[:：]\s*+)?{_UNITS}{_WHOLE}\s*+[:：]\s*+{_NUM}{_WHOLE}",
        # RMB 1 = USD 0.1408
        rf"{_CNY}\s*+{_UNITS}\s*+[=＝]\s*+{_CUR}\s*+{_NUM}",
        # CNY/USD 0.1408 · CNYSGD: 0.19
        rf"(?<![A-Za-z])(?:CNY|RMB)\s*+(?:/\s*+)?(?P<cur>(?-i:[A-Z]{{3}}))(?![A-Za-z])\s*+"
        rf"(?:[:：=＝]\s*+)?{_NUM}{_WHOLE}",
        # 汇率：0.1408（CNY/USD）
        rf"(?:汇率|exchange\s*+rate)\s*+(?:[:：]\s*+)?{_NUM}{_WHOLE}\s*+(?:[（(]\s*+)?"
        rf"(?:CNY|RMB)\s*+/\s*+{_CUR}",
        # 汇率：1 RMB = 0.1408 · 汇率 1元=0.19 (the foreign currency not named)
        rf"(?:汇率|exchange\s*+rate)\s*+(?:[:：]\s*+)?{_UNITS}{_WHOLE}\s*+{_CNY}\s*+"
        rf"(?:[=＝:：]|兑换?)\s*+{_NUM}{_WHOLE}",
    )
)
"""Rates written the other way round: so much of the foreign currency per one (or 100 …) CNY."""
_RATE_RATIO = re.compile(
    rf"(?:汇率|exchange\s*+rate)\s*+(?:[:：]\s*+)?{_UNITS}{_WHOLE}\s*+[:：]\s*+{_NUM}{_WHOLE}",
    re.IGNORECASE,
)
"""汇率 1:7.1234 (one unit of the foreign currency to so much CNY; 100:712.34 too)."""
_RATE_PLAIN = re.compile(
    rf"(?:汇率|exchange\s*+rate)\s*+(?:[:：]\s*+)?{_NUM}{_WHOLE}"
    rf"(?!\s*+(?!{_CNY})[A-Za-z\u4e00-\u9fff])(?!\s*+[:：]\s*+[0-9])",
    re.IGNORECASE,
)
_NAMED_CURRENCY = re.compile(
    r"(?<![A-Za-z])(?P<before>[A-Z]{3})\s*+[0-9]|(?<![A-Za-z])(?P<pair>[A-Z]{3})\s*+/\s*+"
    r"(?:CNY|RMB)|(?:CNY|RMB)\s*+/\s*+(?P<pair2>[A-Z]{3})(?![A-Za-z])|"
    r"[0-9]\s*+(?P<after>[A-Z]{3})(?![A-Za-z])|(?P<name>"
    + "|".join(sorted(CURRENCY_NAMES, key=len, reverse=True))
    + ")|(?P<sign>"
    + "|".join(re.escape(sign) for sign in CURRENCY_SIGNS)
    + ")"
)
"""Where a remark names a currency: an ISO code next to an amount (``USD 8,000.00``,
``8000USD``) or in a pair with CNY (``USD/CNY``), a Chinese name (美元), or a sign that names
one currency (``US$``). A code alone is not taken (``FOB``, ``LTD`` are words too)."""
"""The forms are written so that no text makes them slow (a remark is free text from outside,
of any length): numbers and blanks are matched possessively (``++``, ``*+``: a number is
never read cut short, and a run of digits or blanks is not tried again at every split), a
number never starts right after a digit, and an optional part takes its blanks with it."""

_ID = r"((?=[A-Za-z\-_/.]*+[0-9])[A-Za-z0-9](?:[A-Za-z0-9\-_/.]*[A-Za-z0-9])?)"
"""A reference: letters, digits and ``-_/.``, with at least one digit ("contract terms" is
not a contract number)."""
_KEYED = r"\s*+(?:[:：#]\s*+)?"
"""Between a keyword and its value: blanks, optionally a colon or ``#`` and more blanks."""
CONTRACT = re.compile(
    rf"(?:合同(?:编号|号码|号)|合同|Contract(?:\s*+(?:No\.?|Number|#))?){_KEYED}{_ID}",
    re.IGNORECASE,
)
ORDER = re.compile(
    rf"(?:(?:采购订单(?:编号|号)?|订单(?:编号|号码|号)|Purchase\s++Order(?:\s*+(?:No\.?|Number))?|"
    rf"Order\s*+(?:No\.?|Number)){_KEYED}|\bP\.?O\.?\s*+(?:No\.?|Number){_KEYED}|"
    rf"\bP\.?O\.?\s*+[:：#]\s*+){_ID}",
    re.IGNORECASE,
)
PROJECT = re.compile(
    r"(?:项目(?:编号|名称|号)?|Project(?:\s*+(?:No\.?|Number|#))?)\s*+[:：]\s*+([^\s,，;；|]++)",
    re.IGNORECASE,
)
CUSTOMS = re.compile(r"(?:出口)?报关单(?:编号|号码|号)?\s*+(?:[:：]\s*+)?([0-9A-Za-z]{9,20}+)")
CONFIRMATION = re.compile(
    r"(?:红字发票信息)?确认单(?:编号|号)\s*+(?:[:：]\s*+)?([0-9A-Za-z]{8,32}+)"
)


@dataclass(frozen=True, slots=True)
class StatedRate:
    """An exchange rate the fapiao states: CNY per one unit of :attr:`currency`."""

    rate: Decimal
    currency: str | None
    """ISO 4217 code, ``None`` when the remark names no currency."""
    text: str
    """The statement as printed."""
    inverse: bool = False
    """The statement gives :attr:`rate` units of :attr:`currency` per CNY (``1 CNY = 0.19
    SGD``): the other way round from what an invoice is converted with."""
    inferred: bool = False
    """The statement names no currency; :attr:`currency` is the only foreign currency the
    rest of the remark names (:func:`currencies_named`)."""
    named: tuple[str, ...] = ()
    """For a statement naming no currency and left without one: the foreign currencies the
    remark names (none, or several)."""


@dataclass(slots=True)
class RemarkFacts:
    """What :func:`read_remark` found."""

    rate: StatedRate | None = None
    """The first rate stated (:func:`read_rate`)."""
    currency_rates: list[StatedRate] = field(default_factory=list)
    """Every rate stated for a named currency (:func:`read_currency_rates`)."""
    contract: str | None = None
    """BT-12."""
    project: str | None = None
    """BT-11."""
    order: str | None = None
    """BT-13."""
    customs_declarations: list[str] = field(default_factory=list)
    """报关单号: each a supporting document reference (BT-122)."""
    confirmation: str | None = None
    """红字发票信息确认单编号 (red-letter confirmation form)."""


def _currency(text: str) -> str:
    """The ISO 4217 code for a code or name as written (``RMB``, the renminbi's common
    abbreviation, is CNY)."""
    code = CURRENCY_NAMES.get(text, text.upper())
    return "CNY" if code == "RMB" else code


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def currencies_named(remark: str) -> set[str]:
    """The foreign currencies (ISO 4217, CNY left out) the remark names anywhere
    (:data:`_NAMED_CURRENCY`)."""
    named: set[str] = set()
    for found in _NAMED_CURRENCY.finditer(remark):
        text = next(value for value in found.groupdict().values() if value)
        if found.group("name"):
            code = CURRENCY_NAMES[text]
        elif found.group("sign"):
            code = CURRENCY_SIGNS[text]
        else:
            code = text
        if code in ISO_4217 and code != "CNY":
            named.add(code)
    return named


def read_rate(remark: str) -> StatedRate | None:
    """The exchange rate stated in a remark, if one of the known forms is there.

    A rate written the other way round (``1 CNY = 0.19 SGD``) comes back
    :attr:`~StatedRate.inverse`, and is looked for before the forms that name no currency,
    so that its ``1`` is never read as one CNY per unit. A statement that names no currency
    takes the one foreign currency the rest of the remark names (FORMAT.md §6: the remark is
    the only place a fapiao names a foreign currency), marked :attr:`~StatedRate.inferred`;
    with none or several it stays without one, and :attr:`~StatedRate.named` lists them."""
    stated = _read_rate(remark)
    if stated is None or stated.currency is not None:
        return stated
    named = currencies_named(remark)
    if len(named) == 1:
        return replace(stated, currency=named.pop(), inferred=True)
    return replace(stated, named=tuple(sorted(named)))


def _read_rate(remark: str) -> StatedRate | None:
    """The first statement of one of the known forms, as written."""
    for form in _RATE_FORMS:
        for found in form.finditer(remark):
            stated = _direct(found)
            if stated is not None:
                return stated
    inverse = _inverse_rate(remark)
    if inverse is not None:
        return inverse
    ratio = _RATE_RATIO.search(remark)
    if ratio is not None:
        return _ratio(ratio)
    plain = _RATE_PLAIN.search(remark)
    if plain is not None and (value := _decimal(plain.group("value"))) is not None:
        return StatedRate(value, None, plain.group(0))
    return None


def read_currency_rates(remark: str) -> list[StatedRate]:
    """Every rate the remark states for a named currency, either way round, in the order the
    forms are tried: ``美元汇率 7.10；欧元汇率 7.70`` gives one for USD and one for EUR, so an
    invoice in EUR is converted at the EUR rate, not refused for the USD one read first."""
    direct = [_direct(found) for form in _RATE_FORMS for found in form.finditer(remark)]
    inverse = [_inverse(found) for form in _INVERSE_FORMS for found in form.finditer(remark)]
    return [r for r in (*direct, *inverse) if r is not None and r.currency is not None]


def _direct(found: re.Match[str]) -> StatedRate | None:
    """A match of :data:`_RATE_FORMS` as CNY per unit, or ``None`` when it is no usable rate."""
    parts = found.groupdict()
    value = _decimal(parts["value"])
    ratio = parts.get("ratio")
    if ratio is not None and (not _power_of_ten(ratio) or parts.get("units") is not None):
        return None
    units_text = parts.get("units") or ratio
    units = _decimal(units_text) if units_text else Decimal(1)
    currency = _currency(parts["cur"])
    if value is None or units is None or currency == "CNY":
        return None
    rate = value if units == 1 else (value / units).normalize()
    return StatedRate(rate, currency, found.group(0).strip())


def _inverse(found: re.Match[str]) -> StatedRate | None:
    """A match of :data:`_INVERSE_FORMS` (foreign currency per CNY), or ``None``."""
    parts = found.groupdict()
    value = _decimal(parts["value"])
    units_text = parts.get("units")
    if units_text is not None and not _power_of_ten(units_text):
        return None
    units = _decimal(units_text) if units_text else Decimal(1)
    currency = _currency(parts["cur"]) if parts.get("cur") else None
    if value is None or units is None or currency == "CNY":
        return None
    rate = value if units == 1 else (value / units).normalize()
    return StatedRate(rate, currency, found.group(0).strip(), inverse=True)


def _inverse_rate(remark: str) -> StatedRate | None:
    """The first rate written as foreign currency per CNY (:data:`_INVERSE_FORMS`)."""
    for form in _INVERSE_FORMS:
        for found in form.finditer(remark):
            stated = _inverse(found)
            if stated is not None:
                return stated
    return None


def _power_of_ten(text: str) -> bool:
    """Whether ``text`` is 1, 10, 100 … (the foreign side of a ratio such as 1:7.1234)."""
    return text.isdigit() and text.lstrip("0").rstrip("0") == "1"


def _ratio(found: re.Match[str]) -> StatedRate | None:
    """``汇率 1:7.1234`` as 7.1234 CNY per unit; ``None`` unless the first term is 1, 10,
    100 … (``7.1234:1`` says nothing sure about which side is the foreign currency)."""
    units, value = _decimal(found.group("units")), _decimal(found.group("value"))
    if units is None or value is None or not _power_of_ten(found.group("units")):
        return None
    rate = value if units == 1 else (value / units).normalize()
    return StatedRate(rate, None, found.group(0).strip())


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None


def read_remark(remark: str | None) -> RemarkFacts:
    """Extract the rate and the references from a 备注 text."""
    if not remark:
        return RemarkFacts()
    return RemarkFacts(
        rate=read_rate(remark),
        currency_rates=read_currency_rates(remark),
        contract=_first(CONTRACT, remark),
        project=_first(PROJECT, remark),
        order=_first(ORDER, remark),
        customs_declarations=list(dict.fromkeys(CUSTOMS.findall(remark))),
        confirmation=_first(CONFIRMATION, remark),
    )
