"""A partner directory as sent or kept in a file: TOML or JSON text to checked plain data.

The HTTP API (``PUT /v1/partners``), the console's partner screen and ``lingang partners``
all read a directory through :func:`read_directory`: UTF-8 text, TOML tables or a JSON
object, nested at most :data:`MAX_DIRECTORY_DEPTH` deep, every key and string fit for XML
and for the store, no JSON ``null`` and no value JSON cannot hold (a TOML date). What the
entries mean is :class:`~gateway.partners.PartnerDirectory`'s to check.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any, Literal

from gateway.errors import FieldError
from gateway.jsontext import (
    DuplicateMember,
    TooDeep,
    depth_of,
    loads_bounded,
    unfit_text,
    unique_members,
)

Syntax = Literal["toml", "json"]
MAX_DIRECTORY_BYTES = 2 * 1024 * 1024
MAX_DIRECTORY_DEPTH = 16
"""Deepest nesting of tables and arrays a directory may have (its own shape needs six at
most: an exporter's ``data_export`` and its filings)."""


def read_directory(raw: bytes, syntax: Syntax) -> dict[str, Any]:
    """The directory ``raw`` holds, or a :class:`FieldError` naming the field and rule.

    ``raw`` is at most :data:`MAX_DIRECTORY_BYTES` (the caller reads it bounded and says so
    in its own words when it is larger)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused("the directory is not UTF-8 text", "utf-8") from exc
    data = _parsed(text, syntax)
    if not isinstance(data, dict):
        raise _refused("the directory must be an object / a TOML document", "object")
    unfit = unfit_text(data, xml=True)
    if unfit is not None:
        where, why = unfit
        raise FieldError(f"{where} {why}", field=where, rule="xml-text")
    _check_json_safe(data)
    _check_no_nulls(data, "")
    return data


def _parsed(text: str, syntax: Syntax) -> Any:
    if syntax == "toml":
        try:
            data = tomllib.loads(text)
        except RecursionError as exc:
            raise _too_deep() from exc
        except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
            raise _refused(f"the directory is not valid TOML: {exc}", "toml") from exc
        if depth_of(data) > MAX_DIRECTORY_DEPTH:  # dotted keys nest without brackets
            raise _too_deep()
        return data
    try:
        return loads_bounded(
            text,
            MAX_DIRECTORY_DEPTH,
            parse_constant=_no_constants,
            object_pairs_hook=unique_members,
        )
    except TooDeep as exc:
        raise _too_deep() from exc
    except DuplicateMember as exc:  # TOML refuses a key given twice; so does the JSON form
        raise FieldError(
            f"the directory is not valid JSON: {exc}", field=exc.name, rule="json.duplicate-key"
        ) from exc
    except ValueError as exc:
        raise _refused("the directory is not valid JSON", "json") from exc


def _check_no_nulls(value: Any, where: str) -> None:
    """A JSON ``null`` is not "absent": leave the key out instead."""
    if value is None:
        raise FieldError(
            f"{where} is null: leave the key out instead", field=where, rule="not-null"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_nulls(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_nulls(item, f"{where}[{index}]")


def _check_json_safe(data: dict[str, Any]) -> None:
    """TOML dates and times cannot be stored as JSON: refuse them."""
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _refused(
            "the directory holds a value that is not text or a number (e.g. a TOML date)",
            "json-value",
        ) from exc


def _too_deep() -> FieldError:
    return _refused(f"the directory nests deeper than {MAX_DIRECTORY_DEPTH} levels", "max-depth")


def _refused(message: str, rule: str) -> FieldError:
    return FieldError(message, field="body", rule=rule)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
