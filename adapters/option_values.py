"""Numbers read from an adapter's option table, refused at start-up with the option named."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gateway.errors import ConfigError


def positive_number(name: str, options: Mapping[str, Any], key: str, default: float) -> float:
    """``options[key]`` (else ``default``) as a finite number above zero.

    A boolean, a non-number, zero, a negative, NaN or infinity raises :class:`ConfigError`
    whose field is ``adapters.<name>.<key>``."""
    raw = options.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(raw, bool) or not math.isfinite(value) or value <= 0:
        raise ConfigError(
            f"adapter {name!r}: {key} must be a positive number, not {raw!r}",
            field=f"adapters.{name}.{key}",
        )
    return value


def positive_integer(name: str, options: Mapping[str, Any], key: str, default: int) -> int:
    """:func:`positive_number` for a whole number (a fraction is refused too)."""
    value = positive_number(name, options, key, default)
    if not value.is_integer():
        raise ConfigError(
            f"adapter {name!r}: {key} must be a whole number, not {options.get(key)!r}",
            field=f"adapters.{name}.{key}",
        )
    return int(value)
