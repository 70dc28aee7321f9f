"""RFC 3339 (section 5.6) ``date-time`` and ``full-date``, the JSON Schema formats
``date-time`` and ``date``, checked without extra packages.

``jsonschema``'s own ``date-time`` checker needs the optional ``rfc3339-validator`` package
(without it the format passes silently), so the formats the gateway relies on are checked
here, the same way by both schema engines (:func:`gateway.validation.json_schema.compile_document`).

* ``date-time``: ``YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)``; ``T`` and ``Z`` in either
  case; a real calendar date; hour 00-23, minute 00-59, second 00-60 (a leap second);
  offset hours 00-23 and minutes 00-59;
* ``date``: ``YYYY-MM-DD``, a real calendar date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date

_FULL_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_DATE = re.compile(rf"{_FULL_DATE}\Z", re.ASCII)
_DATE_TIME = re.compile(
    rf"{_FULL_DATE}[Tt](\d{{2}}):(\d{{2}}):(\d{{2}})(?:\.\d+)?(?:[Zz]|[+-](\d{{2}}):(\d{{2}}))\Z",
    re.ASCII,
)


def _calendar_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def is_full_date(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 ``full-date`` (JSON Schema ``date``)."""
    found = _DATE.match(value)
    return found is not None and _calendar_date(*found.groups())


def is_date_time(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 ``date-time`` (JSON Schema ``date-time``)."""
    found = _DATE_TIME.match(value)
    if found is None:
        return False
    year, month, day, hour, minute, second, offset_hour, offset_minute = found.groups()
    return (
        _calendar_date(year, month, day)
        and int(hour) <= 23
        and int(minute) <= 59
        and int(second) <= 60
        and int(offset_hour or 0) <= 23
        and int(offset_minute or 0) <= 59
    )


FORMATS: Mapping[str, Callable[[str], bool]] = {
    "date-time": is_date_time,
    "date": is_full_date,
}
"""The formats checked here, by JSON Schema name."""
