"""RFC 8785 JSON Canonicalization Scheme (JCS): one byte form per JSON value.

* objects: members sorted by their names compared as UTF-16 code units, no whitespace;
* strings: UTF-8, escaping only ``"``, ``\\`` and the control characters (``\\b \\f \\n \\r
  \\t``, else ``\\u00xx`` in lower case);
* numbers: IEEE 754 doubles written as ECMAScript's ``Number.prototype.toString`` writes
  them (shortest round-trip digits; fixed notation for exponents from -6 to 20, else
  ``1e+21`` style; ``-0`` as ``0``). NaN and infinities are not JSON and are refused, as is an
  integer a double cannot hold exactly, and a string with a lone surrogate (not Unicode).

DCSA PINT computes every document checksum as SHA-256 over this form
(:func:`canonical_sha256`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from gateway.errors import FieldError

MAX_DEPTH = 64
"""Deepest nesting accepted (hostile input)."""

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_SAFE_INTEGER = 2**53 - 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""What :func:`json.loads` keeps of an unpaired ``\\ud800``-``\\udfff`` escape (a pair becomes
one character)."""


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value`` (JSON data as :mod:`json` reads it).

    What has no canonical form is a :class:`FieldError` whose ``field`` names the place as a
    JSON path from ``$`` (``$.charges[0].unitPrice``): a NaN or an infinity (a ``1e999``
    read as a float), an integer beyond a double, a lone surrogate."""
    out: list[str] = []
    try:
        _write(value, out, 0)
    except _Unfit as unfit:
        error = unfit.error
        raise FieldError(
            f"{unfit.path}: {error.message}", field=unfit.path, rule=error.rule
        ) from error
    return "".join(out).encode("utf-8")


class _Unfit(Exception):
    """A :class:`FieldError` on its way out of the nesting, gathering the path to it."""

    def __init__(self, error: FieldError, step: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.path = "$" + step

    def within(self, step: str) -> _Unfit:
        self.path = "$" + step + self.path[1:]
        return self


def _step_into(step: str, write: Any, *args: Any) -> None:
    """``write(*args)`` for the member or item at ``step`` (``.name`` or ``[i]``), an error
    in it carrying its path."""
    try:
        write(*args)
    except _Unfit as unfit:
        raise unfit.within(step) from None
    except FieldError as error:
        raise _Unfit(error, step) from None


def canonical_sha256(value: Any) -> str:
    """Lower-case hex SHA-256 of the canonical form of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _write(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise FieldError(f"JSON nested deeper than {MAX_DEPTH}", rule="jcs.max-depth")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(number(value))
    elif isinstance(value, Mapping):
        _object(value, out, depth)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _step_into(f"[{index}]", _write, item, out, depth + 1)
        out.append("]")
    else:
        raise FieldError(f"{type(value).__name__} is not a JSON value", rule="jcs.type")


def _object(value: Mapping[Any, Any], out: list[str], depth: int) -> None:
    for key in value:
        if not isinstance(key, str):
            raise FieldError("JSON object names must be strings", rule="jcs.type")
    out.append("{")
    for index, key in enumerate(sorted(value, key=_utf16_key)):
        if index:
            out.append(",")
        step = "." + _LONE_SURROGATE.sub(_escaped, key)
        _step_into(step, _string_into, key, out)
        out.append(":")
        _step_into(step, _write, value[key], out, depth + 1)
    out.append("}")


def _escaped(found: re.Match[str]) -> str:
    """A lone surrogate of a member name as ``\\uXXXX``, so that its path can be shown."""
    return f"\\u{ord(found.group()):04x}"


def _string_into(text: str, out: list[str]) -> None:
    out.append(_string(text))


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    if _LONE_SURROGATE.search(text):
        raise FieldError(
            "a string holds a lone surrogate, which is not Unicode text (RFC 8785 3.2.2.2)",
            rule="jcs.string",
        )
    parts = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            parts.append(escaped)
        elif char < " ":
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


def _integer(value: int) -> str:
    if abs(value) > _SAFE_INTEGER:
        raise FieldError(
            f"integer {value} cannot be held exactly by an IEEE 754 double",
            rule="jcs.number-range",
        )
    return str(value)


def number(value: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite double (RFC 8785 section 3.2.2.3)."""
    if not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else "an infinity (a number beyond a double)"
        raise FieldError(f"{shown} is not a JSON number (RFC 8259 6)", rule="jcs.number-finite")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple))
    assert isinstance(exponent, int)
    point = len(digits) + exponent  # ECMAScript's n: where the decimal point falls
    if len(digits) <= point <= 21:
        text = digits + "0" * (point - len(digits))
    elif 0 < point <= 21:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        text = "0." + "0" * (-point) + digits
    else:
        power = point - 1
        mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
        text = f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    return sign + text
