"""``/v1/received``: the documents counterparts sent this gateway, as the receiving tenant
sees them.

A received document (AS4 at ``/as4``, an https adapter's inbox) belongs to the tenant of
its receiver (``[peppol] local_participants``) or of the inbox (``inbound_tenant``); any
other tenant's id is a 404, as for ``/v1/documents``. Per document: where it came from,
the answer its sender got (the signed AS4 receipt), the inbound flow's verdict with the
validation report under the document's own profile, the hand-over to the local system and
the Message Level Status sent back. Outputs (``…/output?kind=``): ``received`` (the document
as it arrived, the default), ``report``, ``answer``, and for an invoice or credit note its
``canonical`` JSON and ``readable`` page, read from the received bytes as the inbound flow
read them for the local system.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from gateway.api.context import store, tenant
from gateway.api.disclosure import delivery_error, public_detail
from gateway.api.ingest import check_query, unprocessable
from gateway.api.problems import not_found
from gateway.api.received import (
    ANSWER_MEDIA_TYPE,
    OUTPUT_KINDS,
    canonical_json,
    is_invoice,
    offered_outputs,
    readable_html,
    verdict_of,
)
from gateway.api.routes.documents import MAX_LIST, cursor_params, int_param, next_page
from gateway.api.routes.views import page_response
from gateway.errors import LingangError
from gateway.store import InboundMessage
from gateway.store.received import STATUSES, ReceivedStore, ReceivedSummary

routes = web.RouteTableDef()

_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


@routes.get("/v1/received")
async def list_received(request: web.Request) -> web.Response:
    """The tenant's received documents, newest first; ``status`` filters (``rejected``: what
    the gateway refused, its sender answered with an MLS ``RE``), ``limit`` and ``before``
    page."""
    check_query(request, ("status", "limit", "before", "before_id"))
    limit = int_param(request, "limit", default=50, low=1, high=MAX_LIST)
    before, before_id = cursor_params(request)
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        raise unprocessable(f"status is one of {', '.join(STATUSES)}", "status", "enum")
    found = await ReceivedStore(store(request).connector).list(
        tenant(request).id, limit=limit, before=before, before_id=before_id, status=status
    )
    items = [_summary(s) for s in found]
    last = (found[-1].received_at, found[-1].id) if len(found) == limit else None
    return web.json_response({"items": items, "count": len(items), "next": next_page(last)})


@routes.get("/v1/received/{id}")
async def get_received(request: web.Request) -> web.Response:
    """Origin, the sender's answer, verdict, validation report, hand-over, MLS, receipts."""
    check_query(request, ())
    summary = await _owned(request)
    message = await _message(request, summary.id)
    receipts = await store(request).list_receipts(submission_id=summary.id)
    verdict = verdict_of(receipts)
    body = _summary(summary)
    body.update(
        {
            "transport": public_detail(dict(message.metadata)),
            "answer": None
            if message.answer is None
            else {"media_type": ANSWER_MEDIA_TYPE, "size": len(message.answer)},
            "processing": {
                "attempts": summary.attempts,
                "last_error": delivery_error(summary.last_error, summary.retryable),
                "retryable": summary.retryable,
            },
            "validation": verdict.get("report"),
            "error": verdict.get("error"),
            "handed_on": public_detail(verdict.get("handed_on")),
            "mls": verdict.get("mls"),
            "stages": verdict.get("stages"),
            "receipts": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "media_type": r.media_type,
                    "received_at": r.received_at.isoformat(),
                    "detail": public_detail(r.detail),
                }
                for r in receipts
            ],
            "links": _links(summary, message),
        }
    )
    return web.json_response(body)


@routes.get("/v1/received/{id}/output")
async def get_received_output(request: web.Request) -> web.Response:
    """The document as received (default) or ``?kind=`` report, answer, canonical, readable."""
    check_query(request, ("kind",))
    summary = await _owned(request)
    kind = request.query.get("kind", "received")
    if kind not in OUTPUT_KINDS:
        raise not_found(f"output {kind!r} of a received document (one of {list(OUTPUT_KINDS)})")
    message = await _message(request, summary.id)
    if kind == "received":
        return _download(summary.id, kind, message.data, message.media_type)
    if kind == "answer":
        if message.answer is None:
            raise not_found("answer kept for this document")
        return _download(summary.id, kind, message.answer, ANSWER_MEDIA_TYPE)
    if kind == "report":
        receipts = await store(request).list_receipts(submission_id=summary.id)
        report = verdict_of(receipts).get("report")
        if report is None:
            raise not_found("validation report for this document (yet)")
        data = json.dumps(report, ensure_ascii=False, sort_keys=True).encode()
        return _download(summary.id, kind, data, "application/json")
    if not is_invoice(summary):
        raise not_found(f"output {kind!r}: only a received invoice or credit note has one")
    try:
        if kind == "canonical":
            data = await asyncio.to_thread(canonical_json, message.data)
            return _download(summary.id, kind, data, "application/json")
        profile = str(summary.facts.get("profile", ""))
        page = await asyncio.to_thread(readable_html, message.data, profile)
    except LingangError as exc:
        raise not_found(f"output {kind!r}: the document could not be read ({exc.code})") from exc
    return page_response(page)


async def _owned(request: web.Request) -> ReceivedSummary:
    """The received document named in the path if the tenant owns it; else 404."""
    inbound_id = request.match_info["id"]
    summary = None
    if _ID.fullmatch(inbound_id):
        summary = await ReceivedStore(store(request).connector).summary(
            tenant(request).id, inbound_id
        )
    if summary is None:
        raise not_found("received document")
    return summary


async def _message(request: web.Request, inbound_id: str) -> InboundMessage:
    message = await ReceivedStore(store(request).connector).message(tenant(request).id, inbound_id)
    if message is None:
        raise not_found("received document")
    return message


def _download(inbound_id: str, kind: str, data: bytes, media_type: str) -> web.Response:
    extension = ".json" if "json" in media_type else ".xml" if "xml" in media_type else ".bin"
    return web.Response(
        body=data,
        content_type=media_type.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{inbound_id}-{kind}{extension}"'},
    )


def _links(summary: ReceivedSummary, message: InboundMessage | None = None) -> dict[str, str]:
    base = f"/v1/received/{summary.id}"
    links = {"self": base, "output": f"{base}/output"}
    if message is None:
        return links
    for kind in offered_outputs(summary, has_answer=message.answer is not None):
        links[f"output:{kind}"] = f"{base}/output?kind={kind}"
    return links


def _summary(summary: ReceivedSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "status": summary.status,
        "mls_code": summary.mls,
        "channel": summary.channel,
        "message_id": summary.message_id,
        "sender": summary.sender,
        "receiver": summary.receiver,
        "media_type": summary.media_type,
        "size": summary.size,
        "received_at": summary.received_at.isoformat(),
        "facts": summary.facts,
        "links": _links(summary),
    }
