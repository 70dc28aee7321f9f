"""A receiver's ``Retry-After`` (RFC 9110 section 10.2.3), read for the retry policy.

A 429 (RFC 6585 section 4) or 503 may say how long to wait, as a number of seconds or as an
HTTP date. The adapters pass the wait on with their retryable error; the retry policy then
waits at least that long, up to its own ceiling for such requests. A value that is neither
form is ignored, as the header is advice: the usual backoff applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_SECONDS = re.compile(r"[0-9]{1,10}")

ASK_TO_WAIT = "5"
"""The ``Retry-After`` our own receiving endpoints send with a 503 (the store cannot take a
message now): a sender that honours it comes back in seconds, not at once."""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait that ``value`` asks for (0 for a date already past), or ``None``
    when there is no header or it is neither delay-seconds nor an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    waited = (when - (now or datetime.now(UTC))).total_seconds()
    return max(waited, 0.0)


def asked_wait(status: int, headers: Mapping[str, str]) -> float | None:
    """The wait a 429 or 503 answer asks for (``None`` for other statuses: RFC 9110 gives
    ``Retry-After`` that meaning with 503 and 3xx, RFC 6585 with 429; a redirect is not
    retried, so it is not read there)."""
    if status not in (429, 503):
        return None
    return retry_after_seconds(headers.get("Retry-After"))


def waiting(asked: float | None) -> str:
    """`` (Retry-After N s)`` for an error message when the receiver asked for a wait."""
    return "" if asked is None else f" (Retry-After {asked:.0f} s)"
