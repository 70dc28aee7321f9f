"""Received documents: what counterparts sent the tenant (over AS4 or an https inbox), newest
first, and one received document: where it came from, the verdict of the inbound flow with
the validation report under the document's own profile, the hand-over to the local system,
the Message Level Status, the receipts, the readable view and the downloads (as received,
the report, the signed AS4 receipt its sender got, the canonical JSON).

The list filters by status (``?status=rejected``: what the gateway refused, its sender
answered with an MLS ``RE``) and shows the code of the MLS each sender got.

Tenant-scoped like ``/v1/received``: another tenant's id is answered like an unknown one (404).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

from aiohttp import web

from gateway.api.console.context import LANGUAGE, Screen, console_store, signed_in
from gateway.api.console.i18n import add_texts
from gateway.api.console.page import follows, render
from gateway.api.disclosure import delivery_error, public_detail
from gateway.api.received import (
    canonical_json,
    is_invoice,
    offered_outputs,
    readable_html,
    verdict_of,
)
from gateway.api.routes.views import page_response
from gateway.errors import LingangError
from gateway.readable.report import readable_report
from gateway.store import InboundMessage
from gateway.store.received import PROCESSING, STATUSES, ReceivedStore, ReceivedSummary

routes = web.RouteTableDef()
PAGE_SIZE = 50
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
SHOWN_FACTS = ("profile", "document_kind", "document_number", "seller", "buyer", "currency",
               "payable")  # fmt: skip
DOWNLOADS = ("received", "report", "answer", "canonical")

add_texts(
    {
        "received_documents": ("收到的文档", "Received"),
        "channel": ("通道", "Channel"),
        "message_id": ("报文标识", "Message id"),
        "received_at": ("接收时间", "Received"),
        "handed_on": ("移交本地系统", "Handed to the local system"),
        "mls": ("报文级状态 (MLS)", "Message Level Status (MLS)"),
        "transport": ("传输信息", "Transport"),
        "downloads": ("下载", "Downloads"),
        "rejection": ("拒收原因", "Why it was rejected"),
        "seller": ("销售方", "Seller"),
        "buyer": ("购买方", "Buyer"),
        "currency": ("币种", "Currency"),
        "payable": ("应付金额", "Amount due"),
        "document_number": ("单据号码", "Document number"),
    }
)
KINDS = {
    "Invoice": ("发票", "Invoice"),
    "CreditNote": ("贷项通知单", "Credit note"),
    "CrossIndustryInvoice": ("发票 (CII)", "Invoice (CII)"),
    "ApplicationResponse": ("报文级状态 (MLS)", "Message Level Status (MLS)"),
    "BillOfLading": ("提单", "Bill of lading"),
}
"""A received document's kind (its root element) in words; others are shown as stored."""


@routes.get("/received")
async def received(request: web.Request) -> web.Response:
    tenant, _ = signed_in(request)
    before, before_id = _before(request.query.get("before", ""))
    status = request.query.get("status", "")
    status = status if status in STATUSES else ""
    rows = await ReceivedStore(console_store(request).connector).list(
        tenant.id, limit=PAGE_SIZE + 1, before=before, before_id=before_id, status=status or None
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render(
        request,
        "received.html",
        rows=rows,
        next_cursor=f"{rows[-1].received_at.isoformat()}~{rows[-1].id}" if more else "",
        paged=before is not None,
        statuses=STATUSES,
        chosen=status,
    )


@routes.get("/received/{id}")
async def received_document(request: web.Request) -> web.Response:
    summary, message = await _owned(request)
    receipts = await console_store(request).list_receipts(submission_id=summary.id)
    verdict = verdict_of(receipts)
    report = verdict.get("report")
    return render(
        request,
        "received_document.html",
        doc=summary,
        facts=_facts(summary, request[LANGUAGE]),
        transport=json.dumps(public_detail(dict(message.metadata)), ensure_ascii=False),
        error=delivery_error(summary.last_error, summary.retryable),
        rejection=verdict.get("error"),
        report=readable_report(report if isinstance(report, dict) else None),
        handed_on=public_detail(verdict.get("handed_on")),
        mls=verdict.get("mls"),
        receipts=[{"receipt": r, "detail": public_detail(r.detail)} for r in receipts],
        downloads=[
            kind
            for kind in offered_outputs(summary, has_answer=message.answer is not None)
            if kind in DOWNLOADS
        ],
        readable=is_invoice(summary),
        refresh=follows(request, summary.status == PROCESSING, summary.received_at),
    )


@routes.get("/received/{id}/view")
async def received_view(request: web.Request) -> web.Response:
    """The readable rendering of a received invoice (shown in the page's frame)."""
    summary, message = await _owned(request)
    if not is_invoice(summary):
        raise web.HTTPNotFound()
    profile = str(summary.facts.get("profile", ""))
    try:
        page = await asyncio.to_thread(readable_html, message.data, profile)
    except LingangError as exc:
        return render(request, "view_failed.html", status=422, framed=True, detail=exc.message)
    return page_response(page)


@routes.get("/received/{id}/outputs/{kind}")
async def received_output(request: web.Request) -> web.Response:
    """One download (never shown inline)."""
    summary, message = await _owned(request)
    kind = request.match_info["kind"]
    offered = offered_outputs(summary, has_answer=message.answer is not None)
    if kind not in offered or kind not in DOWNLOADS:
        raise web.HTTPNotFound()
    if kind == "received":
        data, suffix = message.data, ".xml" if "xml" in message.media_type else ".bin"
    elif kind == "answer":
        data, suffix = message.answer or b"", ".xml"
    elif kind == "report":
        receipts = await console_store(request).list_receipts(submission_id=summary.id)
        report = verdict_of(receipts).get("report")
        if report is None:
            raise web.HTTPNotFound()
        data, suffix = json.dumps(report, ensure_ascii=False).encode(), ".json"
    else:
        try:
            data, suffix = await asyncio.to_thread(canonical_json, message.data), ".json"
        except LingangError as exc:
            raise web.HTTPNotFound() from exc
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{summary.id}-{kind}{suffix}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _facts(summary: ReceivedSummary, language: str) -> list[tuple[str, str]]:
    """The facts shown, in :data:`SHOWN_FACTS` order; the kind in words (with the root
    element's name when the words differ)."""
    index = 0 if language == "zh" else 1
    shown = []
    for key in SHOWN_FACTS:
        value = str(summary.facts.get(key) or "")
        if value and key == "document_kind" and value in KINDS:
            words = KINDS[value][index]
            value = words if words == value else f"{words} ({value})"
        if value:
            shown.append((key, value))
    return shown


async def _owned(request: web.Request) -> tuple[ReceivedSummary, InboundMessage]:
    tenant, _ = signed_in(request)
    inbound_id = request.match_info["id"]
    if not _ID.fullmatch(inbound_id):
        raise web.HTTPNotFound()
    reads = ReceivedStore(console_store(request).connector)
    summary = await reads.summary(tenant.id, inbound_id)
    message = await reads.message(tenant.id, inbound_id) if summary is not None else None
    if summary is None or message is None:
        raise web.HTTPNotFound()
    return summary, message


def _before(text: str) -> tuple[datetime | None, str | None]:
    """The page cursor ``time~id`` (the last row seen); a bare time is read too."""
    moment, _, inbound_id = text.strip().partition("~")
    try:
        at = datetime.fromisoformat(moment)
    except ValueError:
        return None, None
    if at.tzinfo is None:
        return None, None
    return at.astimezone(UTC), inbound_id if _ID.fullmatch(inbound_id) else None


SCREEN = Screen(name="received_documents", routes=routes, menu_path="/received", order=15)
