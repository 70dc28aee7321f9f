"""Turn model objects into JSON-ready data: amounts as strings, dates in ISO 8601."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, Decimals, dates, enums and bytes recursively.

    Decimals become strings so no amount passes through a float; bytes become base64.
    Fields whose value is ``None`` or an empty list are left out to keep the output readable.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None or (isinstance(item, list) and not item):
                continue
            out[f.name] = to_jsonable(item)
        return out
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
