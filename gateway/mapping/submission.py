"""The facts a client may send with one submission (``metadata``) that the mapper reads.

The API passes a submission's metadata through unchanged; keys not listed here are ignored by
the mapper (``profile`` is read by :func:`gateway.mapping.map_parsed` itself). A malformed
value is a :class:`~gateway.errors.FieldError` naming ``metadata.<key>``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.errors import FieldError
from gateway.jsontext import unfit_text

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

METADATA_KEYS: dict[str, str] = {
    "exchange_rate": "CNY per one unit of the invoice currency for this invoice (decimal text)",
    "currency": "invoice currency (BT-5, ISO 4217) for this invoice; overrides the partner's",
    "buyer_reference": "BT-10 buyer reference the buyer asked to be quoted",
    "order_reference": "BT-13 purchase order reference",
    "contract_reference": "BT-12 contract reference",
    "project_reference": "BT-11 project reference",
    "preceding_invoice_date": "BT-26 issue date (YYYY-MM-DD) of the invoice a credit note credits: "
    "the blue fapiao a red-letter one reverses (its number, BT-25, is on the red-letter fapiao)",
}
"""Submission metadata keys the mapper reads, and what each one means."""


@dataclass(frozen=True, slots=True)
class Submission:
    """Per-invoice facts from the submission; every field optional."""

    exchange_rate: Decimal | None = None
    """CNY per one unit of :attr:`currency` (or of the partner's currency)."""
    currency: str | None = None
    """BT-5 for this invoice, overriding the partner's ``currency``."""
    buyer_reference: str | None = None
    order_reference: str | None = None
    contract_reference: str | None = None
    project_reference: str | None = None
    preceding_invoice_date: dt.date | None = None
    """BT-26 for the credit note's preceding invoice (the red-letter fapiao prints only its
    number, FORMAT.md §7)."""

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Submission:
        """Read the keys of :data:`METADATA_KEYS` from submission metadata."""
        if not metadata:
            return cls()
        currency = _text(metadata, "currency")
        if currency is not None:
            currency = currency.upper()
            if not _CURRENCY.match(currency):
                raise FieldError(
                    f"metadata currency {currency!r} is not an ISO 4217 code",
                    field="metadata.currency",
                )
        return cls(
            exchange_rate=_rate(metadata.get("exchange_rate")),
            currency=currency,
            buyer_reference=_text(metadata, "buyer_reference"),
            order_reference=_text(metadata, "order_reference"),
            contract_reference=_text(metadata, "contract_reference"),
            project_reference=_text(metadata, "project_reference"),
            preceding_invoice_date=_date(metadata, "preceding_invoice_date"),
        )


def _text(metadata: Mapping[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"metadata {key} must be a string", field=f"metadata.{key}")
    unfit = unfit_text(value, xml=True)
    if unfit is not None:
        raise FieldError(f"metadata {key} {unfit[1]}", field=f"metadata.{key}")
    return value.strip() or None


def _date(metadata: Mapping[str, Any], key: str) -> dt.date | None:
    text = _text(metadata, key)
    if text is None:
        return None
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise FieldError(
        f"metadata {key} {text!r} is not a calendar date written YYYY-MM-DD",
        field=f"metadata.{key}",
    )


def _rate(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise FieldError("metadata exchange_rate must be a number", field="metadata.exchange_rate")
    try:
        rate = Decimal(str(value))
    except InvalidOperation as exc:
        raise FieldError(
            f"metadata exchange_rate {value!r} is not a number", field="metadata.exchange_rate"
        ) from exc
    if not rate.is_finite() or rate <= 0:
        raise FieldError(
            "metadata exchange_rate must be a positive number (CNY per unit of the currency)",
            field="metadata.exchange_rate",
        )
    return rate
