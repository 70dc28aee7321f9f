"""``/v1/policy``, ``/v1/holds`` and ``/v1/ledger/report``: the export policy in force, the
documents it holds, and the export ledger's yearly report.

A compliance officer releases a held document on a recorded legal basis (a ``release`` job
then writes its export-ledger entry, attributed to the officer, and queues the delivery) or
refuses it for good. Deciding needs an officer's API key (403 with a submitter's key, unless
``[policy] submitter_decisions`` is on: :func:`gateway.api.auth.require_officer`); the hold
and the ledger entry record that key (``principal``: ``api-key:<id>``) beside the officer's
name as given (``decided_by``). Holds are scoped to the authenticated tenant like documents:
another tenant's hold is answered 404.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from gateway.api.auth import require_officer
from gateway.api.body_pointers import pointing_into_body
from gateway.api.context import services, store, tenant
from gateway.api.ingest import check_fields, check_query, unprocessable
from gateway.api.problems import FieldIssue, Problem, not_found
from gateway.bounded_body import read_bounded
from gateway.jsontext import DuplicateMember, loads_bounded, unique_members
from gateway.policy.report import FIRST_YEAR, LAST_YEAR, ledger_report
from gateway.store.ledger import LISTED_STATES, Hold, LedgerStore

routes = web.RouteTableDef()

_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
MAX_DECISION_BYTES = 16 * 1024
MAX_TEXT = 1000
MAX_EXPORTER = 200
_CONTROL = re.compile("[\x00-\x1f\x7f]")
"""What an exporter id may not hold (PostgreSQL text cannot hold NUL)."""
"""Longest exporter id a ledger report is asked for (a USCC has 18 characters)."""
MAX_DECISION_DEPTH = 8
"""Deepest nesting a decision body may have (it is one flat object)."""


def _ledger(request: web.Request) -> LedgerStore:
    db = store(request)
    return LedgerStore(db.connector, clock=db.clock)


@routes.get("/v1/policy")
async def get_policy(request: web.Request) -> web.Response:
    """The export policy in force: version, files (name and digest), negative list, positive
    guidance, minimisation."""
    check_query(request, ())
    from gateway.policy import DEFAULT_POLICY

    tools = getattr(services(request), "tools", None)
    source = getattr(tools, "policy", None)
    policy = source.current() if source is not None else DEFAULT_POLICY
    return web.json_response(policy.summary())


@routes.get("/v1/holds")
async def list_holds(request: web.Request) -> web.Response:
    """The tenant's held documents (``state`` filters: held, releasing, release_failed,
    released, refused). The default, ``held``, lists every hold waiting for a decision:
    those a release job failed on too, as ``release_failed``."""
    check_query(request, ("state",))
    state = request.query.get("state", "held")
    if state not in LISTED_STATES:
        raise unprocessable(f"state is one of {', '.join(LISTED_STATES)}", "state", "enum")
    found = await _ledger(request).list_holds(state=state, tenant_id=tenant(request).id)
    items = [hold.to_json() for hold in found]
    return web.json_response({"items": items, "count": len(items)})


@routes.get("/v1/ledger/report")
async def ledger_report_of_year(request: web.Request) -> web.Response:
    """The export ledger's report of a calendar year (Beijing time) for the tenant: per
    exporter, the distinct individuals counted against the thresholds and the documents
    that left per destination, data category and legal basis (``lingang ledger report``'s
    figures, the tenant's own)."""
    check_query(request, ("year", "exporter"))
    year = _year(request.query.get("year"))
    exporter = request.query.get("exporter")
    if exporter is not None and not 0 < len(exporter) <= MAX_EXPORTER:
        raise unprocessable(f"exporter is 1 to {MAX_EXPORTER} characters", "exporter", "length")
    if exporter is not None and _CONTROL.search(exporter):
        raise unprocessable("exporter holds a control character", "exporter", "format")
    ledger, own = _ledger(request), tenant(request).id
    entries = await ledger.entries_for_year(year, exporter, tenant_id=own)
    counts = await ledger.counts(year, exporter, tenant_id=own)
    report = ledger_report(year, entries, counts)
    return web.json_response({"year": year, "exporters": report["tenants"].get(own, {})})


def _year(text: str | None) -> int:
    """The ``year`` query parameter: a calendar year, four digits (422 naming it)."""
    if text is None:
        raise unprocessable("year is required (YYYY)", "year", "required")
    if not (text.isascii() and text.isdigit() and len(text) == 4) or not (
        FIRST_YEAR <= int(text) <= LAST_YEAR
    ):
        raise unprocessable(
            f"year is a year from {FIRST_YEAR} to {LAST_YEAR} (YYYY)", "year", "format"
        )
    return int(text)


@routes.post("/v1/holds/{id}/release")
@pointing_into_body(("officer", "basis"))
async def release_hold(request: web.Request) -> web.Response:
    """Release a held document on a recorded ``basis``, decided by ``officer`` (an officer's
    key)."""
    key = require_officer(request)
    hold = await _owned(request)
    body = await _decision(request, "basis")
    released = await _ledger(request).release(
        hold.submission_id, body["officer"], body["basis"], principal=key.principal
    )
    return web.json_response(released.to_json(), status=202)


@routes.post("/v1/holds/{id}/refuse")
@pointing_into_body(("officer", "reason"))
async def refuse_hold(request: web.Request) -> web.Response:
    """Refuse a held document for good, with the ``reason``, decided by ``officer`` (an
    officer's key)."""
    key = require_officer(request)
    hold = await _owned(request)
    body = await _decision(request, "reason")
    refused = await _ledger(request).refuse(
        hold.submission_id, body["officer"], body["reason"], principal=key.principal
    )
    return web.json_response(refused.to_json())


async def _owned(request: web.Request) -> Hold:
    ident = request.match_info["id"]
    if not _ID.fullmatch(ident):
        raise not_found("held document")
    hold = await _ledger(request).get_hold(ident)
    if hold is None or hold.tenant_id != tenant(request).id:
        raise not_found("held document")
    return hold


async def _decision(request: web.Request, what: str) -> dict[str, str]:
    """``{officer, <what>}`` from a small JSON body; 415 / 413 / 422 naming the field (any
    other member too)."""
    if request.content_type != "application/json":
        detail = f"send the decision as application/json, not {request.content_type!r}"
        raise Problem(415, "unsupported-media-type", detail,
                      [FieldIssue(detail, "Content-Type", "media-type")])  # fmt: skip
    raw = await read_bounded(request.content, MAX_DECISION_BYTES)
    if raw is None:
        detail = f"a decision is at most {MAX_DECISION_BYTES} bytes"
        raise Problem(413, "too-large", detail, [FieldIssue(detail, "body", "max-body-bytes")])
    try:
        data: Any = loads_bounded(
            raw.decode("utf-8"), MAX_DECISION_DEPTH, object_pairs_hook=unique_members
        )
    except DuplicateMember as exc:  # two officers, two bases: which one is recorded?
        raise unprocessable(
            f"the body is not valid JSON: {exc}", exc.name, "json.duplicate-key"
        ) from exc
    except ValueError as exc:  # not UTF-8, not JSON or nested too deep
        raise unprocessable("the body is not valid JSON", "body", "json") from exc
    if not isinstance(data, dict):
        raise unprocessable("the body must be a JSON object", "body", "object")
    check_fields(data, ("officer", what))
    out: dict[str, str] = {}
    for key in ("officer", what):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise unprocessable(
                f"`{key}` is required: a non-empty string of at most {MAX_TEXT} characters",
                key,
                "required",
            )
        out[key] = value.strip()
    return out
