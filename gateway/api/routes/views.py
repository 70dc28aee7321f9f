"""``GET /v1/documents/{id}/view``: the document as a readable HTML page.

Tenant-scoped like every ``/v1/documents`` route: another tenant's id is a 404. The page is
self-contained (inline style, no script), served with a content security policy that allows
no script and no outside resource, so even a rendering mistake could not run document text.
"""

from __future__ import annotations

import re

from aiohttp import web

from gateway.api.context import store, tenant
from gateway.api.ingest import check_query
from gateway.api.problems import not_found
from gateway.api.readable import readable_page, reads_registry

routes = web.RouteTableDef()

_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
"""The readable page's content security policy: inline style only."""


@routes.get("/v1/documents/{id}/view")
async def view_document(request: web.Request) -> web.Response:
    """The readable rendering (Chinese and English labels, amounts, taxes, report)."""
    check_query(request, ())
    submission_id = request.match_info["id"]
    submission = None
    if _ID.fullmatch(submission_id):
        submission = await store(request).get_submission(tenant(request).id, submission_id)
    if submission is None:
        raise not_found("document")
    registry = reads_registry(request, submission.tenant_id)
    page = await readable_page(store(request), submission, registry=registry)
    return page_response(page)


def page_response(page: str) -> web.Response:
    """A readable page with its security headers."""
    return web.Response(
        body=page.encode("utf-8", "replace"),
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": PAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
