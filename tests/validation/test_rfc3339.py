"""RFC 3339 date-time and full-date (JSON Schema ``date-time`` / ``date``), without packages."""

from __future__ import annotations

import pytest

from gateway.validation.rfc3339 import is_date_time, is_full_date


@pytest.mark.parametrize(
    "value",
    [
        "2024-04-17T07:11:19.531Z",
        "2024-04-17T07:11:19Z",
        "2024-04-17t07:11:19z",
        "2024-04-17T07:11:19+08:00",
        "2024-02-29T23:59:59.123456-05:30",
        "2016-12-31T23:59:60Z",
    ],
)
def test_date_times_allowed(value: str) -> None:
    assert is_date_time(value)


@pytest.mark.parametrize(
    "value",
    [
        "not a date",
        "2024-04-17",
        "2024-04-17T07:11:19",
        "2024-04-17 07:11:19Z",
        "2023-02-29T07:11:19Z",
        "2024-04-17T24:00:00Z",
        "2024-04-17T07:60:00Z",
        "2024-04-17T07:11:61Z",
        "2024-04-17T07:11:19+24:00",
        "2024-04-17T07:11:19.Z",
        "2024-04-17T07:11:19Z\n",
        "２０２４-04-17T07:11:19Z",
    ],
)
def test_date_times_refused(value: str) -> None:
    assert not is_date_time(value)


def test_full_dates() -> None:
    assert is_full_date("2024-02-29") and is_full_date("2023-12-19")
    for value in ["2023-02-29", "2023-13-01", "19/12/2023", "2023-12-19T00:00:00Z", "2023-1-9"]:
        assert not is_full_date(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ({"at": "not a date"}, False),
        ({"at": "2026-12-05T10:00:00+08:00"}, True),
        ({"on": "2026-02-30"}, False),
        ({"on": "2026-02-28"}, True),
    ],
)
def test_both_schema_engines_check_dates_alike_by_default(value: dict, valid: bool) -> None:
    """Without a chosen set of formats (the official DCSA schemas), ``date-time`` and ``date``
    are checked by the same functions in both engines: ``jsonschema`` alone let a bad
    date-time pass (its check needs an optional package) while ``jsonschema_rs`` refused it."""
    from gateway.validation.json_schema import compile_document

    schema = {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "on": {"type": "string", "format": "date"},
        },
    }
    compiled = compile_document(schema)
    assert compiled.explain.is_valid(value) is valid
    assert compiled.gate is not None and compiled.gate.is_valid(value) is valid
