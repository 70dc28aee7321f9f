"""``/v1/ebls``: issue, transfer and read eBLs of this gateway's DCSA PINT platform.

The platform is the configured ``dcsa_pint`` adapter; only the tenants its ``tenants`` option
names operate it (any other tenant, or a gateway without the adapter, gets 404, as for any
record the tenant does not own). Each operator acts for its own parties
(:meth:`~adapters.dcsa_pint.options.PintOptions.acts_for`): it reads only the eBLs one of
them takes part in (another's is a 404), issues only for a carrier it acts for and
transfers only an eBL in the possession of a party it acts for (403 otherwise). The same operations as ``lingang ebl issue / transfer /
history``: the eBL is locked and the ``transfer`` job queued in one transaction (202), and only
a signed ``RECE``/``DUPE`` ends this platform's control.

Every action that changes an eBL (issue, transfer) takes an ``Idempotency-Key`` header: the
first answer to it is stored with the change, in the same transaction, and a retry with the
same key and the same request (method, path, body) is given that answer again
(``Idempotent-Replayed: true``) on any replica, after any restart, instead of a 409 or a
second action; the same key with another request is a 409 naming what differs. A request
that failed changed nothing and left no answer: its retry runs again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.dcsa_pint.platform import Attachment, PintPlatform, parse_party, transfer_accepted
from gateway.api.body_pointers import pointing_into_body
from gateway.api.context import store, tenant
from gateway.api.ingest import (
    check_fields,
    check_query,
    idempotency_key,
    too_large,
    unprocessable,
)
from gateway.api.platforms import operated_platform
from gateway.api.problems import FieldIssue, Problem
from gateway.api.routes.documents import MAX_LIST, int_param, time_param
from gateway.bounded_body import read_bounded
from gateway.errors import FieldError, NotPermittedError
from gateway.jsontext import DuplicateMember, TooDeep, loads_bounded, unfit_text, unique_members
from gateway.pint.checksums import is_checksum
from gateway.pint.codes import ActionCode
from gateway.store import ConflictError, NotFoundError
from gateway.store.ebl import Outbound, TitleRecord
from gateway.store.ebl_idempotency import IdempotentAnswers, IdempotentRequest, Remembered

routes = web.RouteTableDef()

IMPLIED_RECIPIENT = frozenset(
    {"SURRENDER_FOR_DELIVERY", "SURRENDER_FOR_AMENDMENT", "SACC", "SREJ", "SIGN", "BLANK_ENDORSE"}
)
"""Actions whose ``to`` the title implies (the carrier; the party that asked to surrender)."""
TRANSFER_FIELDS = (
    "action", "to", "name", "documents", "forwardDocuments", "reasonCode", "comments",
)  # fmt: skip
"""The members a transfer request may have; any other (``actoin``) is refused by name."""
ISSUE_FIELDS = ("transportDocument", "to", "name", "documents", "visualisation")
"""The members an issue request may have; any other (``visualization``: the carrier's
visualisation would be left out of the issuance manifest it signs, for good) is refused."""
MAX_EBL_BYTES = 16 * 1024 * 1024
MAX_EBL_DEPTH = 32
"""Deepest nesting a request body may have (DCSA's transport document needs about ten)."""


def _platform(request: web.Request) -> PintPlatform:
    platform = operated_platform(request, tenant(request).id)
    if platform is not None:
        return platform
    raise Problem(404, "not-found", "no eBL platform is operated by this tenant",
                  [FieldIssue("no dcsa_pint adapter names this tenant", field="tenant")])  # fmt: skip


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Problem(415, "unsupported-media-type", "send application/json",
                      [FieldIssue("Content-Type must be application/json", field="Content-Type")])  # fmt: skip
    raw = await read_bounded(request.content, MAX_EBL_BYTES)
    if raw is None:
        raise too_large(MAX_EBL_BYTES)
    try:
        body = loads_bounded(raw.decode("utf-8"), MAX_EBL_DEPTH, object_pairs_hook=unique_members)
    except TooDeep as exc:
        detail = f"the body nests deeper than {MAX_EBL_DEPTH} levels"
        raise unprocessable(detail, "body", "json.max-depth") from exc
    except DuplicateMember as exc:  # the checksum's RFC 8785 form takes I-JSON only
        raise unprocessable(
            f"the body is not I-JSON: {exc}", exc.name, "json.duplicate-key"
        ) from exc
    except ValueError as exc:
        raise unprocessable(f"the body is not JSON: {str(exc)[:200]}", "body", "json") from exc
    if not isinstance(body, dict):
        raise unprocessable("the body must be a JSON object", "body", "json.object")
    unfit = unfit_text(body, xml=True)  # also a NUL, which PostgreSQL cannot store
    if unfit is not None:
        raise unprocessable(f"{unfit[0]} {unfit[1]}", unfit[0], "json.text")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise unprocessable(f"{key} is required (a string)", key, "required")
    return value


def _name(body: dict[str, Any]) -> str:
    """The recipient's ``name``: a string when given (``""``: none)."""
    value = body.get("name")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise unprocessable("name must be a string (the party's name)", "name", "type")
    return value


def _attachments(platform: PintPlatform, body: dict[str, Any]) -> list[Attachment]:
    documents = body.get("documents") or []
    if not isinstance(documents, list):
        raise unprocessable("documents must be a list", "documents", "type")
    return [
        _attachment(platform, item, f"documents[{index}]") for index, item in enumerate(documents)
    ]


def _attachment(platform: PintPlatform, item: Any, where: str) -> Attachment:
    """``{"name", "content" (base64), "mediaType"}`` as a document to send (a 422 naming
    ``where`` when it is not one DCSA PINT can send, e.g. empty, or when it is larger, decoded,
    than the adapter's ``max_document_bytes``)."""
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("name"), str)
        or not isinstance(item.get("content"), str)
    ):
        raise unprocessable(f"{where} needs name and content (base64)", where, "required")
    media_type = item.get("mediaType") or "application/pdf"
    if not isinstance(media_type, str):
        raise unprocessable(f"{where}.mediaType must be a string", f"{where}.mediaType", "type")
    try:
        data = base64.b64decode(item["content"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise unprocessable(f"{where}.content is not base64", f"{where}.content", "base64") from exc
    try:
        return Attachment(item["name"], data, media_type).check(where, platform.document_limit)
    except FieldError as exc:
        raise unprocessable(exc.message, exc.field or where, exc.rule or "dcsa") from exc


Answer = tuple[int, dict[str, Any]]
"""An action's answer: HTTP status and JSON body."""
LOST_RACE = (ConflictError, NotFoundError, NotPermittedError)
"""What a retry racing its first request (another replica) may be told once the first has
changed the eBL: it then finds the first answer."""


def _issued(done: Any) -> Answer:
    """The answer to an issue: 202 queued for another platform, 201 held here."""
    if isinstance(done, Outbound):
        return 202, transfer_accepted(done)
    assert isinstance(done, TitleRecord)
    return 201, {"checksum": done.td_checksum, "state": done.state}


def _transferred(sent: Any) -> Answer:
    """The answer to a transfer: 202 queued for another platform, 200 recorded here."""
    if isinstance(sent, Outbound):
        return 202, transfer_accepted(sent)
    assert isinstance(sent, TitleRecord)
    return 200, {"checksum": sent.td_checksum, "state": sent.state, "possessor": sent.possessor}


def _idempotent_request(request: web.Request, body: dict[str, Any]) -> IdempotentRequest | None:
    """What the request's ``Idempotency-Key`` (if any) stands for: method, path and a
    SHA-256 of each body member (RFC 8785-like canonical JSON: sorted keys, no spaces)."""
    key = idempotency_key(request)
    if key is None:
        return None
    fields = {
        name: hashlib.sha256(
            json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
        ).hexdigest()
        for name, value in body.items()
    }
    return IdempotentRequest(tenant(request).id, key, f"{request.method} {request.path}", fields)


async def _replay(request: web.Request, wanted: IdempotentRequest) -> web.Response | None:
    """The first answer given under ``wanted``'s key (``Idempotent-Replayed: true``), a 409
    naming what differs when the key was used for another request, ``None`` when unused."""
    first = await IdempotentAnswers.of(store(request)).find(wanted.tenant_id, wanted.key)
    if first is None:
        return None
    differ = first.request.differences(wanted)
    if differ:
        used = (
            f"for {first.request.request}"
            if differ == ["request"]
            else "with a different " + ", ".join(differ)
        )
        detail = (
            f"this Idempotency-Key was already used {used}: send the same request again, "
            "or use a new key"
        )
        issues = [FieldIssue(detail, "Idempotency-Key", "idempotency-key-reuse")]
        if differ != ["request"]:
            issues += [
                FieldIssue(f"{n} differs from the first request", n, "differs") for n in differ
            ]
        raise Problem(409, "idempotency-conflict", detail, issues)
    headers = {"Idempotent-Replayed": "true"}
    return web.json_response(first.body, status=first.status, headers=headers)


async def _act(
    request: web.Request,
    wanted: IdempotentRequest | None,
    answer: Callable[[Any], Answer],
    action: Callable[[Remembered | None], Awaitable[Any]],
) -> web.Response:
    """Run ``action`` (remembering its answer under ``wanted``'s key, if any) and answer;
    a retry that lost the race to its first request (another replica) is given that one's
    answer."""
    remembered = None if wanted is None else Remembered(wanted, answer)
    try:
        result = await action(remembered)
    except LOST_RACE:
        replay = None if wanted is None else await _replay(request, wanted)
        if replay is None:
            raise
        return replay
    status, body = answer(result)
    return web.json_response(body, status=status)


@routes.post("/v1/ebls")
@pointing_into_body(ISSUE_FIELDS, document="/transportDocument")
async def issue_ebl(request: web.Request) -> web.Response:
    """Issue a DCSA transport document to ``to`` (``PLATFORM:PARTY``)."""
    platform = _platform(request)
    body = await _body(request)
    wanted = _idempotent_request(request, body)
    if wanted is not None and (replay := await _replay(request, wanted)) is not None:
        return replay
    check_fields(body, ISSUE_FIELDS)
    to = parse_party(_text(body, "to"), name=_name(body))
    visualisation = None
    if body.get("visualisation") is not None:
        visualisation = _attachment(platform, body["visualisation"], "visualisation")
    attachments = _attachments(platform, body)
    return await _act(
        request,
        wanted,
        _issued,
        lambda remembered: platform.issue(
            body.get("transportDocument"),
            to=to,
            attachments=attachments,
            tenant_id=tenant(request).id,
            visualisation=visualisation,
            remembered=remembered,
        ),
    )


@routes.post("/v1/ebls/{reference}/transfers")
@pointing_into_body(TRANSFER_FIELDS)
async def transfer_ebl(request: web.Request) -> web.Response:
    """Transfer (endorse, surrender, answer a surrender …) a held eBL to ``to``: queued for
    a party of another platform (202), recorded at once for a party of this one (200).
    ``comments`` go to the recipient, ``reasonCode`` (``SWTP``, ``COD``, ``SWI``) with a
    ``SURRENDER_FOR_AMENDMENT`` (PINT 3.0 ``Transaction``).
    ``to`` may be left out for a surrender (the issuing carrier), for ``SACC`` / ``SREJ``
    (the party that requested the surrender), wherever that party is, and for ``SIGN`` /
    ``BLANK_ENDORSE`` (no recipient: recorded here, with the possessor)."""
    platform = _platform(request)
    body = await _body(request)
    wanted = _idempotent_request(request, body)
    if wanted is not None and (replay := await _replay(request, wanted)) is not None:
        return replay
    check_fields(body, TRANSFER_FIELDS)
    action = str(body.get("action") or ActionCode.TRANSFER.value)
    if action not in ActionCode.__members__ or action == ActionCode.ISSUE.value:
        raise unprocessable(
            f"action {action[:50]!r} is not a PINT transfer action", "action", "pint.action"
        )
    to = None
    if body.get("to") is not None or action not in IMPLIED_RECIPIENT:
        to = parse_party(_text(body, "to"), name=_name(body))
    forward = body.get("forwardDocuments", False)
    if not isinstance(forward, bool):
        raise unprocessable("forwardDocuments must be true or false", "forwardDocuments", "type")
    attachments = _attachments(platform, body)
    reason_code, comments = _optional_text(body, "reasonCode"), _optional_text(body, "comments")
    return await _act(
        request,
        wanted,
        _transferred,
        lambda remembered: platform.transfer(
            request.match_info["reference"],
            to=to,
            action=ActionCode(action),
            attachments=attachments,
            forward_documents=forward,
            tenant_id=tenant(request).id,
            remembered=remembered,
            reason_code=reason_code,
            comments=comments or "",
        ),
    )


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    """The string member ``key`` of ``body``, ``None`` when absent (a 422 when not a string)."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise unprocessable(f"{key} must be a string", key, "type")
    return value


EBL_STATES = frozenset({"held", "sending", "transferred", "surrendered"})


@routes.get("/v1/ebls")
async def list_ebls(request: web.Request) -> web.Response:
    """The eBLs the tenant takes part in, most recently changed first: state here, possessor,
    holder and whether it may transfer them now; ``state``, ``limit`` and ``before`` filter.
    A full page ends with ``next``, the query of the page after it (``before`` and
    ``before_checksum``: the last eBL's time and checksum, so eBLs changed at the same
    time are on the next page, not skipped); ``null`` after the last page."""
    check_query(request, ("state", "limit", "before", "before_checksum"))
    platform = _platform(request)
    limit = int_param(request, "limit", default=50, low=1, high=MAX_LIST)
    before = time_param(request, "before")
    before_checksum = request.query.get("before_checksum")
    if before_checksum is not None and not is_checksum(before_checksum):
        raise unprocessable(
            "before_checksum is the transportDocumentChecksum of the last eBL seen",
            "before_checksum",
            "format",
        )
    if before_checksum is not None and before is None:
        detail = "before_checksum goes with before (that eBL's updatedAt)"
        raise unprocessable(detail, "before", "required")
    state = request.query.get("state")
    if state is not None and state not in EBL_STATES:
        known = ", ".join(sorted(EBL_STATES))
        raise unprocessable(f"state must be one of {known}", "state", "enum")
    items = await platform.listing(
        tenant(request).id,
        state=state,
        before=before,
        before_checksum=before_checksum,
        limit=limit,
    )
    after = None
    if len(items) == limit:
        last = items[-1]
        after = {"before": last["updatedAt"], "before_checksum": last["transportDocumentChecksum"]}
    return web.json_response({"items": items, "count": len(items), "next": after})


@routes.get("/v1/ebls/{reference}")
async def ebl_history(request: web.Request) -> web.Response:
    """The eBL's state here and its chain, every signature verified again."""
    check_query(request, ())
    history = await _platform(request).history(
        request.match_info["reference"], tenant_id=tenant(request).id
    )
    return web.json_response(history)
