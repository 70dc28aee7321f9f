"""``/v1/partners``: read and replace the tenant's partner directory.

``PUT`` takes the directory as JSON (``{"partners": [...], "exporters": [...]}``) or as the
TOML file (``[[partners]]`` / ``[[exporters]]`` tables), validates all of it with
:class:`~gateway.partners.PartnerDirectory`, then replaces the tenant's directory.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from aiohttp import web

from gateway.api.context import store, tenant
from gateway.api.ingest import check_query, unprocessable
from gateway.api.problems import FieldIssue, Problem
from gateway.bounded_body import read_bounded
from gateway.jsontext import TooDeep, depth_of, loads_bounded, unfit_text
from gateway.store.partner_directory import directory_document, replace_directory

routes = web.RouteTableDef()

JSON_TYPES = frozenset({"application/json"})
TOML_TYPES = frozenset({"application/toml", "text/toml", "application/x-toml"})
MAX_DIRECTORY_BYTES = 2 * 1024 * 1024
MAX_DIRECTORY_DEPTH = 16
"""Deepest nesting of tables and arrays a directory may have (its own shape needs six at
most: an exporter's ``data_export`` and its filings)."""


@routes.get("/v1/partners")
async def get_partners(request: web.Request) -> web.Response:
    """The tenant's directory in the file's shape."""
    check_query(request, ())
    return web.json_response(await directory_document(store(request), tenant(request).id))


@routes.put("/v1/partners")
async def put_partners(request: web.Request) -> web.Response:
    """Validate and replace the tenant's whole directory; answer with what is now stored."""
    check_query(request, ())
    data = await _read_directory(request)
    who = tenant(request).id
    count = await replace_directory(store(request), who, data)
    document = await directory_document(store(request), who)
    return web.json_response({"entries": count, **document})


async def _read_directory(request: web.Request) -> dict[str, Any]:
    media_type = request.content_type
    if media_type not in JSON_TYPES | TOML_TYPES:
        detail = f"send the directory as application/json or application/toml, not {media_type!r}"
        issue = FieldIssue(detail, "Content-Type", "media-type")
        raise Problem(415, "unsupported-media-type", detail, [issue])
    if (request.content_length or 0) > MAX_DIRECTORY_BYTES:
        raise _too_large()
    raw = await read_bounded(request.content, MAX_DIRECTORY_BYTES)
    if raw is None:
        raise _too_large()
    if not raw.strip():
        raise unprocessable(
            "the body is empty: to clear the directory, send `partners = []` (TOML) or "
            '{"partners": []} (JSON)',
            "body",
            "required",
        )
    return directory_from_bytes(raw, media_type)


def directory_from_bytes(raw: bytes, media_type: str) -> dict[str, Any]:
    """The directory a TOML or JSON body holds, checked as ``PUT`` checks it (422 naming the
    field otherwise); the console's partner screen reads its form through this too."""
    if len(raw) > MAX_DIRECTORY_BYTES:
        raise _too_large()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise unprocessable("the directory is not UTF-8 text", "body", "utf-8") from exc
    data: Any
    if media_type in TOML_TYPES:
        try:
            data = tomllib.loads(text)
        except RecursionError as exc:
            raise _too_deep() from exc
        except (
            ValueError
        ) as exc:  # TOMLDecodeError, or an integer of more digits than Python converts
            raise unprocessable(f"the directory is not valid TOML: {exc}", "body", "toml") from exc
        if depth_of(data) > MAX_DIRECTORY_DEPTH:  # dotted keys nest without brackets
            raise _too_deep()
    else:
        try:
            data = loads_bounded(text, MAX_DIRECTORY_DEPTH, parse_constant=_no_constants)
        except TooDeep as exc:
            raise _too_deep() from exc
        except ValueError as exc:
            raise unprocessable("the directory is not valid JSON", "body", "json") from exc
    if not isinstance(data, dict):
        raise unprocessable("the directory must be an object / a TOML document", "body", "object")
    unfit = unfit_text(data, xml=True)
    if unfit is not None:
        where, why = unfit
        raise unprocessable(f"{where} {why}", where, "xml-text")
    _check_json_safe(data)
    _check_no_nulls(data, "")
    return data


def _check_no_nulls(value: Any, where: str) -> None:
    """A JSON ``null`` is not "absent": leave the key out instead (422 naming it)."""
    if value is None:
        raise unprocessable(f"{where} is null: leave the key out instead", where, "not-null")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_nulls(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_nulls(item, f"{where}[{index}]")


def _too_deep() -> Problem:
    return unprocessable(
        f"the directory nests deeper than {MAX_DIRECTORY_DEPTH} levels", "body", "max-depth"
    )


def _too_large() -> Problem:
    detail = f"a partner directory is at most {MAX_DIRECTORY_BYTES} bytes"
    return Problem(413, "too-large", detail, [FieldIssue(detail, "body", "max-directory-bytes")])


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_json_safe(data: dict[str, Any]) -> None:
    """TOML dates and times cannot be stored as JSON: refuse them with the field named."""
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise unprocessable(
            "the directory holds a value that is not text or a number (e.g. a TOML date)",
            "body",
            "json-value",
        ) from exc
