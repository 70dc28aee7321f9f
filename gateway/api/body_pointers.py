"""RFC 9457 problems that point (RFC 6901) at the member of the JSON request body each
issue is about: a handler decorated with :func:`pointing_into_body` answers every 4xx with
``pointer`` set on the issues that name a body member."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from gateway.api.ingest import UNPRINTABLE
from gateway.api.problems import FieldIssue, Problem, from_lingang_error
from gateway.errors import LingangError
from gateway.jsontext import json_pointer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def pointing_into_body(
    members: Iterable[str], document: str | None = None
) -> Callable[[Handler], Handler]:
    """A handler whose 4xx problems point (RFC 6901) at the body member each issue names:
    a member of ``members`` written ``documents[1].name`` (``/documents/1/name``), an unknown
    member, the body itself; with ``document``, the pointer of the DCSA document in the body
    (``/transportDocument``), also a place in that document, which the official schema's
    errors name by JSONPath (``$.consignmentItems[0]`` is
    ``/transportDocument/consignmentItems/0``). Headers, the path and the tenant have none."""
    known = frozenset(members)

    def locate(issue: FieldIssue) -> str | None:
        where = issue.field
        if not where or issue.rule == "json.duplicate-key":  # a member's name, not its path
            return None
        if where == UNPRINTABLE:  # an unknown member's name, not shown
            return None
        if where == "body":
            return ""
        if where.startswith(("$", "/")):
            inner = json_pointer(where) if document is not None else None
            return None if inner is None else f"{document}{inner}"
        root = re.match(r"[^.\[]*", where)
        if issue.rule == "unknown-field" or (root is not None and root.group() in known):
            return json_pointer(where)
        return None

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def pointed(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except Problem as problem:
                raise problem.pointing(locate) from problem
            except LingangError as exc:
                mapped = from_lingang_error(exc)
                if mapped.status >= 500:
                    raise
                raise mapped.pointing(locate) from exc

        return pointed

    return decorate
