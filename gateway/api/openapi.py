"""The OpenAPI 3.1 document of the HTTP API (``schemas/openapi.json``) and route coverage.

The document is written by hand and kept beside the other schemas; a test checks that it
is a valid OpenAPI 3.1 document and that it lists exactly the routes the app serves (the
receiving adapters' routes, marked :data:`ADAPTER`, when they are mounted).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aiohttp import web

from gateway.resources import schema_file

DOCUMENT = "openapi.json"
METHODS = ("get", "put", "post", "delete", "patch")


@cache
def openapi_document() -> dict[str, Any]:
    """The parsed document (read once per process)."""
    data: dict[str, Any] = json.loads(schema_file(DOCUMENT).read_text(encoding="utf-8"))
    return data


def documented_operations(document: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    """``(METHOD, path template)`` of every operation the document describes."""
    paths = (document or openapi_document()).get("paths", {})
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in METHODS
        if method in item
    }


ADAPTER = "x-lingang-adapter"
"""Marks an operation an adapter serves when it is configured to receive (``/as4``, the
DCSA PINT endpoints): the adapter type; the app serves it only then."""


def adapter_operations(document: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    """``(METHOD, path template)`` of the documented operations marked :data:`ADAPTER`."""
    paths = (document or openapi_document()).get("paths", {})
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in METHODS
        if method in item and ADAPTER in item[method]
    }


NOT_API_PREFIXES = ("/console/",)
"""Served beside the API but not part of it: the operator console's HTML pages."""


def served_operations(app: web.Application) -> set[tuple[str, str]]:
    """``(METHOD, path template)`` of every API route the app serves (HEAD and the console
    left out)."""
    out: set[tuple[str, str]] = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in {"HEAD", "*"}:
            continue
        if resource.canonical.startswith(NOT_API_PREFIXES) or resource.canonical == "/console":
            continue
        out.add((route.method, resource.canonical))
    return out
