"""One document: history with stage timings, outputs, the readable rendering, the
validation report, receipts and delivery attempts; retry from the page. An eBL also shows
what this platform's eBL registry holds for it: its state here, its possessor and the title
chain, entry by entry (the outputs list its conversions: dcsa, ubl, uncefact, tradetrust-oa).

Tenant-scoped: another tenant's id is answered exactly like an unknown one (404).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gateway.api.console.context import PREFIX, Screen, console_store, signed_in
from gateway.api.console.page import follows, redirect, render
from gateway.api.context import services
from gateway.api.disclosure import delivery_error, event_reason, public_detail
from gateway.api.readable import readable_page, reads_registry, render_source
from gateway.api.routes.views import page_response
from gateway.errors import LingangError
from gateway.flows.ebl_convert import VC_MEDIA_TYPE
from gateway.readable.kinds.ebl import decode_entry
from gateway.readable.report import readable_report
from gateway.store import ConflictError, Event, NotFoundError, Submission

routes = web.RouteTableDef()
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
DELIVERY = "deliver"
EBL = "ebl"
WORKING = frozenset({"received", "queued"})
"""States in which the page refreshes itself (the document is on its way)."""


@routes.get("/documents/{id}")
async def document(request: web.Request) -> web.Response:
    submission = await _owned(request)
    db = console_store(request)
    events = await db.list_events(submission.id)
    outputs = await db.list_outputs(submission.id)
    jobs = [j for j in await db.list_jobs(submission_id=submission.id) if j.kind == DELIVERY]
    receipts = await db.list_receipts(submission_id=submission.id)
    registry = reads_registry(request, submission.tenant_id)
    source = await render_source(db, submission, outputs=outputs, events=events, registry=registry)
    notice = request.query.get("notice", "")
    return render(
        request,
        "document.html",
        doc=submission,
        events=[_event(e) for e in events],
        outputs=outputs,
        report=readable_report(source.report),
        facts=source.facts,
        jobs=[{"job": j, "error": delivery_error(j.last_error, j.retryable)} for j in jobs],
        receipts=[{"receipt": r, "detail": public_detail(r.detail)} for r in receipts],
        refresh=follows(request, submission.state in WORKING, submission.updated_at),
        ebl=source.kind == EBL,
        chain=[decode_entry(entry) for entry in source.title_chain],
        notice=notice if notice in ("retried", "not_retryable") else "",
    )


@routes.get("/documents/{id}/view")
async def view(request: web.Request) -> web.Response:
    """The readable rendering (shown in the document page's frame)."""
    submission = await _owned(request)
    try:
        registry = reads_registry(request, submission.tenant_id)
        page = await readable_page(console_store(request), submission, registry=registry)
    except LingangError as exc:
        return render(request, "view_failed.html", status=422, framed=True, detail=exc.message)
    return page_response(page)


@routes.get("/documents/{id}/outputs/{kind}")
async def output(request: web.Request) -> web.Response:
    """One output as a download (never shown inline: it is the gateway's document, not a page)."""
    submission = await _owned(request)
    kind = request.match_info["kind"]
    found = None
    if _ID.fullmatch(kind):
        found = await console_store(request).get_output(submission.id, kind)
    if found is None:
        raise web.HTTPNotFound()
    name = f"{submission.id}-{found.kind}{_suffix(found.media_type)}"
    return web.Response(
        body=found.data,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _suffix(media_type: str) -> str:
    if "json" in media_type or media_type.split(";")[0] == VC_MEDIA_TYPE:
        return ".json"
    return ".xml" if "xml" in media_type else ".bin"


@routes.post("/documents/{id}/retry")
async def retry(request: web.Request) -> web.Response:
    submission = await _owned(request)
    tenant, _ = signed_in(request)
    try:
        jobs = await services(request).submissions.retry(tenant.id, submission.id)
    except NotFoundError as exc:
        raise web.HTTPNotFound() from exc
    except ConflictError:
        jobs = []
    notice = "retried" if jobs else "not_retryable"
    back = request.query.get("back", "")
    if back == "stuck":
        raise redirect(f"{PREFIX}/stuck?notice={notice}")
    raise redirect(f"{PREFIX}/documents/{submission.id}?notice={notice}")


async def _owned(request: web.Request) -> Submission:
    tenant, _ = signed_in(request)
    submission_id = request.match_info["id"]
    if not _ID.fullmatch(submission_id):
        raise web.HTTPNotFound()
    submission = await console_store(request).get_submission(tenant.id, submission_id)
    if submission is None:
        raise web.HTTPNotFound()
    return submission


def _event(event: Event) -> dict[str, Any]:
    detail = event.detail or {}
    stages = detail.get("stages")
    timings = [
        {"stage": str(s.get("stage", "")), "ms": s.get("ms"), "ok": s.get("ok")}
        for s in (stages if isinstance(stages, list) else [])
        if isinstance(s, dict)
    ]
    return {
        "state": event.state,
        "at": event.at,
        "reason": event_reason(event.state, event.reason) or "",
        "timings": timings,
    }


SCREEN = Screen(name="document", routes=routes)
