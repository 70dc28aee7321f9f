"""``/v1/partners``: read and replace the tenant's partner directory.

``PUT`` takes the directory as JSON (``{"partners": [...], "exporters": [...]}``) or as the
TOML file (``[[partners]]`` / ``[[exporters]]`` tables), validates all of it with
:class:`~gateway.partners.PartnerDirectory`, then replaces the tenant's directory.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.api.context import store, tenant
from gateway.api.ingest import check_query, unprocessable
from gateway.api.problems import FieldIssue, Problem, from_lingang_error
from gateway.bounded_body import read_bounded
from gateway.errors import FieldError
from gateway.jsontext import json_pointer
from gateway.partners.document import MAX_DIRECTORY_BYTES, Syntax, read_directory
from gateway.store.partner_directory import directory_document, replace_directory

routes = web.RouteTableDef()

JSON_TYPES = frozenset({"application/json"})
TOML_TYPES = frozenset({"application/toml", "text/toml", "application/x-toml"})


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
    try:
        count = await replace_directory(store(request), who, data)
    except FieldError as exc:  # the entries' meaning, checked as they are stored
        problem = from_lingang_error(exc)
        if request.content_type in JSON_TYPES:
            problem = problem.pointing(_pointer)
        raise problem from exc
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
    syntax: Syntax = "toml" if media_type in TOML_TYPES else "json"
    try:
        return read_directory(raw, syntax)
    except FieldError as exc:
        problem = unprocessable(exc.message, exc.field or "body", exc.rule or "directory")
        if syntax == "json":  # RFC 6901 pointer into the body; a TOML body has none
            problem = problem.pointing(_pointer)
        raise problem from exc


def _pointer(issue: FieldIssue) -> str | None:
    """Where a directory issue is in a JSON body: ``partners[0].endpoint`` is
    ``/partners/0/endpoint``, ``body`` the whole body."""
    if issue.field == "body":
        return ""
    if issue.field and issue.field.startswith(("partners", "exporters")):
        return json_pointer(issue.field)
    return None


def _too_large() -> Problem:
    detail = f"a partner directory is at most {MAX_DIRECTORY_BYTES} bytes"
    return Problem(413, "too-large", detail, [FieldIssue(detail, "body", "max-directory-bytes")])
