"""Dates read the quick way are read as ``strptime`` reads them, format after format."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from gateway.ingest.values import _DATE_FORMATS, read_datetime


def _by_strptime(text: str) -> tuple[dt.date, dt.time | None] | None:
    """What :func:`read_datetime` gives for a text that is not all digits, the slow way."""
    for fmt, has_time in _DATE_FORMATS:
        try:
            stamp = dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return stamp.date(), (stamp.time() if has_time else None)
    return None


EDGES = [
    f"{year}-{month}-{day}{time}"
    for year, month, day, time in itertools.product(
        ["2024", "2025", "0000", "9999"],
        ["00", "01", "02", "12", "13"],
        ["00", "01", "28", "29", "30", "31", "32"],
        ["", " 00:00:00", "T23:59:59", " 24:00:00", " 12:60:00", " 12:00:60", " 1:02:03", "  "],
    )
] + ["2025-1-5", "2025-01-05 10:20", "2025-01-05 10:20:30.5", "２０２５-01-05", "2025/01/05"]


def test_edges_read_as_strptime_reads_them() -> None:
    for text in EDGES:
        assert read_datetime(text) == _by_strptime(text), text


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.sampled_from(["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]),
)
def test_written_dates_read_as_strptime_reads_them(stamp: dt.datetime, fmt: str) -> None:
    text = stamp.strftime(fmt)
    assert read_datetime(text) == _by_strptime(text)
