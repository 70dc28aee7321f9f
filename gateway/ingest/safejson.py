"""Hardened JSON loading: size, nesting depth, encoding, no NaN/Infinity, no duplicate keys,
no number of more digits than any amount has, no lone surrogates (nor, for values that become
XML, characters XML cannot carry).

Numbers with a fraction become :class:`~decimal.Decimal`, never float. A key given twice in one
object is refused: for an amount, "the last one wins" would be a silent guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.errors import InputError, UnsafeInputError
from gateway.ingest.textenc import decode_json_text
from gateway.ingest.types import IngestLimits
from gateway.jsontext import TooDeep, loads_bounded, unfit_text


def _reject_constant(name: str) -> Any:
    raise InputError(f"JSON constant {name} is not a number", rule="json.non-finite")


@dataclass(frozen=True, slots=True)
class _Unrepresentable:
    """A JSON number whose exponent no :class:`~decimal.Decimal` holds (``1e99999999999999999999``),
    kept as written until :func:`_oversized_number` names its place."""

    text: str


def _number(text: str) -> Decimal | _Unrepresentable:
    try:
        return Decimal(text)
    except InvalidOperation:
        return _Unrepresentable(text)


INTEGER_DIGITS_READ = 4000
"""An integer of more digits is kept as written, not converted (Python refuses integers of
more than 4,300 digits, without saying where they are): it is far beyond any amount, and
:func:`_oversized_number` names its place."""


def _integer(text: str) -> int | _Unrepresentable:
    if len(text) > INTEGER_DIGITS_READ:
        return _Unrepresentable(text)
    return int(text)


def _digits(value: Decimal | int) -> int:
    """How many digits ``value`` takes written out without an exponent."""
    if isinstance(value, int):
        return len(str(abs(value)))
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # JSON numbers are finite
    return len(digits) + exponent if exponent >= 0 else max(len(digits), -exponent)


def _oversized_number(value: Any, max_digits: int) -> tuple[str, str] | None:
    """``(path, number)`` of the first number in ``value`` beyond ``max_digits`` digits or
    beyond any exponent (path as :func:`~gateway.jsontext.unfit_text` writes it)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Unrepresentable):
            return path, item.text
        if isinstance(item, Decimal | int) and not isinstance(item, bool):
            if _digits(item) > max_digits:
                return path, str(item)
        elif isinstance(item, dict):
            stack.extend(
                (child, f"{path}.{key}" if path else key) for key, child in reversed(item.items())
            )
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(
                f"JSON object has the key {key!r} twice", field=key, rule="json.duplicate-key"
            )
        out[key] = value
    return out


def load_json(
    data: bytes, limits: IngestLimits, what: str = "platform JSON", *, for_xml: bool = False
) -> Any:
    """Parse ``data`` as JSON under ``limits``; every failure is a typed error naming the rule.

    ``for_xml``: the values will be written into XML, so a string holding a character XML
    cannot carry (a NUL, another control character) is refused here, naming its field,
    rather than failing the conversion later."""
    if len(data) > limits.max_input_bytes:
        raise UnsafeInputError(
            f"{what} is {len(data)} bytes, more than {limits.max_input_bytes}",
            rule="input.max-bytes",
        )
    text = decode_json_text(data, what)
    try:
        value = loads_bounded(
            text,
            limits.json_max_depth,
            parse_float=_number,
            parse_int=_integer,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except TooDeep as exc:
        raise UnsafeInputError(
            f"{what} nests deeper than {limits.json_max_depth} levels", rule="json.max-depth"
        ) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            rule="json.syntax",
        ) from exc
    except ValueError as exc:  # a number Python will not convert (see INTEGER_DIGITS_READ)
        raise InputError(f"{what} has an unreadable number: {exc}", rule="json.number") from exc
    oversized = _oversized_number(value, limits.json_max_number_digits)
    if oversized is not None:
        where, number = oversized
        shown = number if len(number) <= 24 else f"{number[:12]}…{number[-8:]}"
        raise InputError(
            f"{what}: {where or 'the value'} is the number {shown}, more than "
            f"{limits.json_max_number_digits} digits written out",
            field=where or None,
            rule="json.number",
        )
    unfit = unfit_text(value, xml=for_xml)
    if unfit is not None:
        where, why = unfit
        raise InputError(f"{what}: {where or 'the value'} {why}", field=where, rule="json.text")
    return value
