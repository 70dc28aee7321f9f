"""Locating values in a platform JSON invoice object, whatever its key vocabulary.

The STA 乐企 pinyin keys (:mod:`gateway.ingest.platform_json`) and Nuonuo's camelCase keys
(:mod:`gateway.ingest.platform_nuonuo`) name the same fields; both readers look them up here,
so a value's text and its source path are found the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.errors import FieldError
from gateway.ingest.record import Src
from gateway.ingest.values import number_or_none


def text(value: Any) -> str | None:
    """A JSON scalar as text (``true`` → ``Y``); ``None`` for null, objects and lists."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return format(value, "f")  # 1.0E+2 (JSON's 1.0E2) as 100: the readers take no exponent
    return str(value)


class JsonObject:
    """One JSON object and its path, for :class:`~gateway.ingest.record.Src` look-ups."""

    def __init__(self, obj: dict[str, Any], path: str) -> None:
        self.obj = obj
        self.path = path

    def src(self, *keys: str) -> Src:
        """The first of ``keys`` with a non-empty value; else the first key, empty."""
        for key in keys:
            if key in self.obj and text(self.obj[key]) not in (None, ""):
                return Src(text(self.obj[key]), f"{self.path}{key}")
        return Src(None, f"{self.path}{keys[0]}")

    def value(self, *keys: str) -> str | None:
        """The stripped text of :meth:`src`, ``None`` when empty."""
        return self.src(*keys).value


def object_list(doc: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    """``doc[key]`` as a list of objects (absent or null: empty); anything else is refused."""
    items = doc.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FieldError(f"{key} must be a list of {what} objects", field=key, rule="json.shape")
    return items


INCLUDES_TAX = frozenset({"1", "Y", "TRUE"})
"""Values of a 含税标志 (乐企 ``hsbz``, Nuonuo ``isIncludeTax``) saying the line's amount and
unit price include VAT."""


def includes_tax(o: JsonObject, *keys: str) -> bool:
    """True when the first of ``keys`` present says the line is tax-inclusive."""
    flag = o.value(*keys)
    return flag is not None and flag.upper() in INCLUDES_TAX


def net_of_tax(
    o: JsonObject, path: str, keys: tuple[str, str], flags: tuple[str, str]
) -> tuple[Src, Src, Src | None]:
    """(amount, gross, price) of a line whose amount (``keys``: amount key, tax key) includes
    VAT.

    The amount is amount − tax and the gross the amount as printed; the price is ``None``, so
    the parser derives the net unit price from amount / quantity (an inclusive price is not
    BT-146). Without a tax amount the net cannot be known: refused. ``flags`` (inclusive,
    exclusive) name the flag's two settings as the source writes them, for the messages.
    """
    amount_key, tax_key = keys
    inclusive, exclusive = flags
    amount, tax = o.src(amount_key), o.src(tax_key)
    gross_value, tax_value = number_or_none(amount.text), number_or_none(tax.text)
    if gross_value is None or tax_value is None:
        raise FieldError(
            f"{path}: {inclusive} says {amount_key} {amount.text!r} includes VAT, but "
            f"{tax_key} {tax.text!r} gives no tax amount to take out, so the net amount is "
            f"unknown; send the line tax-exclusive ({exclusive}) or with its tax",
            field=tax.path,
            rule="json.tax-inclusive",
        )
    net = Src(f"{gross_value - tax_value}", f"{amount.path} − {tax.path} ({inclusive})")
    return net, Src(amount.text, amount.path), None
