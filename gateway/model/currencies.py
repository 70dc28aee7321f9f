"""How many decimals an amount in a currency has: ISO 4217 minor units, within EN 16931's two.

ISO 4217 gives each currency its minor unit: most have two decimals, some none (the yen and the
won are counted in whole units, there is no sen or jeon in use) and a few three (the Bahraini
and Kuwaiti dinar, the Omani rial …) or four (CLF, UYW). EN 16931 and every CIUS built on it
allow at most two decimals in an amount (BR-DEC-01 … BR-DEC-28; PINT ibr-091, ibr-121 …,
PINT SG BR-DEC-*-SG), and none asks for more or fewer per currency. So an amount in a currency
without minor unit is stated in whole units, and one with three or four decimals in two (the
most the rules allow: a fils or baisa more is not expressible in a valid invoice).
"""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
"""The currencies whose ISO 4217 minor unit is 0."""
EN16931_MAX_DECIMALS = 2
"""The most decimals EN 16931 allows in an amount (BR-DEC-*)."""


def amount_places(currency: str) -> int:
    """The decimals an amount in ``currency`` is stated with: 0 or 2."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else EN16931_MAX_DECIMALS


def amount_unit(currency: str) -> Decimal:
    """The smallest step of an amount in ``currency`` (``1`` for JPY, ``0.01`` for USD)."""
    return Decimal(1).scaleb(-amount_places(currency))
