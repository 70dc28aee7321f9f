"""Value checks shared by the readers."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from gateway.errors import FieldError

_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_MAX_DECIMAL_CHARS = 40


def decimal_value(text: str | None, path: str) -> Decimal | None:
    """An ``xs:decimal`` (no exponent, no NaN, at most 40 characters)."""
    if text is None:
        return None
    if len(text) > _MAX_DECIMAL_CHARS or not _DECIMAL.match(text):
        raise FieldError(f"{path}: {text[:50]!r} is not a decimal", field=path)
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise FieldError(f"{path}: {text!r} is not a decimal", field=path) from exc
