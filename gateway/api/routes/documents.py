"""``/v1/documents``: submit, list, status (history, report, receipts), outputs, retry.

Every lookup is scoped to the authenticated tenant: another tenant's document is answered
exactly like one that does not exist (404), so ids cannot be probed across tenants.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.api.context import OPTIONS, services, store, tenant
from gateway.api.disclosure import delivery_error, event_reason, public_detail
from gateway.api.ingest import (
    DOCUMENT_FIELDS,
    MAPPING_FIELDS,
    RECEIVER,
    Upload,
    check_query,
    read_upload,
    unprocessable,
)
from gateway.api.problems import FieldIssue, Problem, not_found
from gateway.errors import ValidationFailed
from gateway.flows import EBL_OUT, INVOICE_OUT
from gateway.flows.ebl_convert import VC_MEDIA_TYPE
from gateway.jobs.submissions import SubmissionState
from gateway.store import (
    ConflictError,
    Event,
    Job,
    NotFoundError,
    Output,
    OutputSummary,
    Submission,
    SubmissionSummary,
)

routes = web.RouteTableDef()

_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
STATES = tuple(state.value for state in SubmissionState)
"""The states ``GET /v1/documents?state=`` filters by; another word is a 422, not an empty
list a reader would take for 'none in that state'."""
_DIGITS = re.compile(r"-?[0-9]{1,9}", re.ASCII)
DEFAULT_OUTPUT = "signed"
"""The output ``GET …/output`` returns without ``?kind=``: the signed document."""
REPORT_OUTPUT = "report"
"""The output kind holding the validation report (``ValidationReport.to_json()``)."""
DELIVERY_KIND = "deliver"
"""Jobs of this kind are deliveries (``process`` jobs are the document's own processing)."""
MAX_LIST = 200
FLOW_BY_KIND = {"invoice": INVOICE_OUT.name, "ebl": EBL_OUT.name}
"""The flow that processes each document ``kind`` (query parameter ``kind``)."""


@routes.post("/v1/documents")
async def submit_document(request: web.Request) -> web.Response:
    """Accept a document once it is durably stored; a repeated idempotency key replays."""
    upload = await read_upload(request, request.app[OPTIONS].max_body_bytes)
    who = tenant(request)
    submission, created = await services(request).submissions.submit(
        who.id,
        upload.body,
        content_type=upload.content_type,
        filename=upload.filename,
        metadata=upload.metadata,
        idempotency_key=upload.idempotency_key,
        flow=FLOW_BY_KIND[upload.metadata.get("kind", "invoice")],
    )
    if not created:
        _check_replay(submission, upload)
    location = f"/v1/documents/{submission.id}"
    body = {"id": submission.id, "status": submission.state, "links": _links(submission.id)}
    headers = {"Location": location}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return web.json_response(body, status=202 if created else 200, headers=headers)


@routes.get("/v1/documents")
async def list_documents(request: web.Request) -> web.Response:
    """The tenant's documents, newest first; ``state``, ``limit`` and ``before`` filter."""
    check_query(request, ("state", "limit", "before", "before_id"))
    limit = int_param(request, "limit", default=50, low=1, high=MAX_LIST)
    before, before_id = cursor_params(request)
    state = request.query.get("state")
    if state is not None and not _ID.fullmatch(state):
        raise unprocessable("state is a state name such as 'delivered'", "state", "format")
    if state is not None and state not in STATES:
        raise unprocessable(f"state is one of {', '.join(STATES)}", "state", "enum")
    found = await store(request).list_submissions(
        tenant(request).id, state=state, limit=limit, before=before, before_id=before_id
    )
    items = [_summary(s) for s in found]
    last = (found[-1].created_at, found[-1].id) if len(found) == limit else None
    return web.json_response({"items": items, "count": len(items), "next": next_page(last)})


@routes.get("/v1/documents/{id}")
async def get_document(request: web.Request) -> web.Response:
    """Status, history with stage timings, validation report, deliveries, receipts, links."""
    check_query(request, ())
    submission = await _owned(request)
    db = store(request)
    events = await db.list_events(submission.id)
    outputs = await db.list_output_summaries(submission.id, read=[REPORT_OUTPUT])
    jobs = await db.list_jobs(submission_id=submission.id)
    receipts = await db.list_receipts(submission_id=submission.id)
    body = _summary(submission)
    body.update(
        {
            "metadata": submission.metadata,
            "history": [_event(e) for e in events],
            "validation": _report(outputs),
            **_assurance(events),
            "outputs": [
                {"kind": o.kind, "media_type": o.media_type, "size": o.size} for o in outputs
            ],
            "deliveries": [_job(j) for j in jobs if j.kind == DELIVERY_KIND],
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
            "links": _links(submission.id, [o.kind for o in outputs]),
        }
    )
    return web.json_response(body)


@routes.get("/v1/documents/{id}/output")
async def get_output(request: web.Request) -> web.Response:
    """The signed document (or another output with ``?kind=``) as its own media type."""
    check_query(request, ("kind",))
    submission = await _owned(request)
    kind = request.query.get("kind", DEFAULT_OUTPUT)
    output: Output | None = None
    if _ID.fullmatch(kind):
        output = await store(request).get_output(submission.id, kind)
    if output is None:
        raise not_found(f"output {kind!r} for this document (yet)")
    extension = _extension(output.media_type)
    disposition = f'attachment; filename="{submission.id}-{output.kind}{extension}"'
    return web.Response(
        body=output.data,
        content_type=output.media_type.split(";")[0],
        headers={"Content-Disposition": disposition},
    )


@routes.post("/v1/documents/{id}/retry")
async def retry_document(request: web.Request) -> web.Response:
    """Manual retry of a dead-lettered delivery; 409 when nothing can be retried now."""
    check_query(request, ())
    submission = await _owned(request)
    try:
        jobs = await services(request).submissions.retry(tenant(request).id, submission.id)
    except NotFoundError as exc:
        raise not_found("document") from exc
    except ConflictError as exc:
        raise _not_retryable(exc.message) from exc
    if not jobs:
        raise _not_retryable("no delivery of this document is dead-lettered")
    fresh = await store(request).get_submission_summary(tenant(request).id, submission.id)
    status = fresh.state if fresh is not None else submission.state
    body = {
        "id": submission.id,
        "status": status,
        "retried": [_job(j) for j in jobs],
        "links": _links(submission.id),
    }
    return web.json_response(body, status=202)


REPLAYED_FIELDS = (
    ("profile", "profile"),
    ("recipient", RECEIVER),
    *((name, name) for name in (*MAPPING_FIELDS, *DOCUMENT_FIELDS)),
)
"""Metadata a replay must repeat exactly: ``(name in the API, key in the submission)``."""
METADATA_DEFAULTS = {"kind": "invoice", "resend": "false"}
"""What a metadata field left out means (``kind=invoice`` repeats a submission without it,
as ``resend=false`` does)."""


def _check_replay(first: Submission, again: Upload) -> None:
    """A repeated idempotency key must repeat the submission: same document, content type
    and metadata; else 409 naming every field that differs (the first one is kept)."""
    differ: list[str] = []
    if first.data != again.body:
        differ.append("document")
    if first.content_type != again.content_type:
        differ.append("Content-Type")
    for name, key in REPLAYED_FIELDS:
        default = METADATA_DEFAULTS.get(key)
        if first.metadata.get(key, default) != again.metadata.get(key, default):
            differ.append(name)
    if first.filename != again.filename:
        differ.append("filename")
    if not differ:
        return
    detail = (
        "this idempotency key was already used with a different "
        + ", ".join(differ)
        + ": send the same submission again, or use a new key"
    )
    issues = [FieldIssue(detail, "Idempotency-Key", "idempotency-key-reuse")]
    issues += [
        FieldIssue(f"{name} differs from the first submission", name, "differs") for name in differ
    ]
    raise Problem(409, "idempotency-conflict", detail, issues)


async def _owned(request: web.Request) -> SubmissionSummary:
    """The submission named in the path (without its bytes) if the tenant owns it; else 404
    (never 403)."""
    submission_id = request.match_info["id"]
    if not _ID.fullmatch(submission_id):
        raise not_found("document")
    submission = await store(request).get_submission_summary(tenant(request).id, submission_id)
    if submission is None:
        raise not_found("document")
    return submission


def _not_retryable(detail: str) -> Problem:
    return Problem(409, "not-retryable", detail, [FieldIssue(detail, "id", "retryable")])


def _links(submission_id: str, kinds: list[str] | None = None) -> dict[str, str]:
    base = f"/v1/documents/{submission_id}"
    links = {"self": base, "output": f"{base}/output", "retry": f"{base}/retry"}
    for kind in kinds or []:
        links[f"output:{kind}"] = f"{base}/output?kind={kind}"
    return links


def _summary(submission: Submission | SubmissionSummary) -> dict[str, Any]:
    return {
        "id": submission.id,
        "status": submission.state,
        "content_type": submission.content_type,
        "filename": submission.filename,
        "idempotency_key": submission.idempotency_key,
        "created_at": submission.created_at.isoformat(),
        "updated_at": submission.updated_at.isoformat(),
        "links": {"self": f"/v1/documents/{submission.id}"},
    }


def _event(event: Event) -> dict[str, Any]:
    detail = event.detail or {}
    out: dict[str, Any] = {
        "state": event.state,
        "at": event.at.isoformat(),
        "reason": event_reason(event.state, event.reason),
        "detail": public_detail(detail),
    }
    stages = detail.get("stages")
    if isinstance(stages, list):
        out["timings"] = [
            {"stage": s.get("stage"), "ms": s.get("ms"), "ok": s.get("ok")}
            for s in stages
            if isinstance(s, dict)
        ]
    return out


def _assurance(events: list[Event]) -> dict[str, Any]:
    """Whether the document was validated and signed, from its stages' summaries:
    ``validated`` true / false (validation off) and ``signed`` ``"detached"`` /
    ``"enveloped"`` / false (signing off); null until that stage has run."""
    found: dict[str, Any] = {"validated": None, "signed": None}
    for event in events:
        stages = (event.detail or {}).get("stages")
        for stage in stages if isinstance(stages, list) else []:
            if not isinstance(stage, dict):
                continue
            if stage.get("stage") == "validate":
                found["validated"] = _validated(stage)
            elif stage.get("stage") == "sign" and "signed" in stage:
                found["signed"] = stage["signed"]
    return found


def _validated(stage: dict[str, Any]) -> bool | None:
    """A validate stage's verdict on "was it checked": skipped (off) is false; a run that
    ended, or stopped on fatal findings, is true; one that broke before deciding is null."""
    if stage.get("skipped"):
        return False
    if stage.get("ok") or stage.get("code") == ValidationFailed.code:
        return True
    return None


def _job(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "adapter": job.adapter,
        "state": job.state.value,
        "attempts": job.attempts,
        "message_id": job.message_id,
        "next_attempt_at": job.next_attempt_at.isoformat(),
        "last_error": delivery_error(job.last_error, job.retryable),
        "retryable": job.retryable,
    }


def _report(outputs: list[OutputSummary]) -> dict[str, Any] | None:
    for output in outputs:
        if output.kind == REPORT_OUTPUT and output.data is not None and "json" in output.media_type:
            try:
                data = json.loads(output.data)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _extension(media_type: str) -> str:
    if "xml" in media_type:
        return ".xml"
    if "json" in media_type or media_type.split(";")[0] == VC_MEDIA_TYPE:
        return ".json"
    if "zip" in media_type or "ofd" in media_type:
        return ".zip"
    return ".bin"


def int_param(request: web.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw):  # int() also takes "+5", " 5", "1_0" and other digits
        raise unprocessable(f"{name} must be an integer", name, "integer")
    value = int(raw)
    if not low <= value <= high:
        raise unprocessable(f"{name} must be between {low} and {high}", name, "range")
    return value


def cursor_params(request: web.Request) -> tuple[datetime | None, str | None]:
    """``before`` and ``before_id``: a page ends after the last row seen, by (time, id), so
    rows that share the last row's time are on the next page, not skipped."""
    before = time_param(request, "before")
    before_id = request.query.get("before_id")
    if before_id is not None and not _ID.fullmatch(before_id):
        raise unprocessable("before_id is the id of the last item seen", "before_id", "format")
    if before_id is not None and before is None:
        raise unprocessable("before_id goes with before (that item's time)", "before", "required")
    return before, before_id


def next_page(last: tuple[datetime, str] | None) -> dict[str, str] | None:
    """The query of the page after a full one (``None`` after a short page: there is none)."""
    if last is None:
        return None
    return {"before": last[0].isoformat(), "before_id": last[1]}


def time_param(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise unprocessable(f"{name} must be an ISO 8601 date-time", name, "date-time") from exc
    if value.tzinfo is None:
        raise unprocessable(f"{name} must carry a time zone", name, "date-time")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return _calendar_end(value)


def _calendar_end(value: datetime) -> datetime:
    """A time within a day of the calendar's ends, in UTC: the end it is beyond.

    ``9999-12-31T23:59:59-14:00`` is in year 10000 in UTC, which :class:`datetime` cannot
    hold; as a bound it means "any time", as ``0001-01-01T00:00:00+14:00`` means "no time".
    """
    return (datetime.max if value.year > 1 else datetime.min).replace(tzinfo=UTC)
