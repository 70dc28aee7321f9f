"""The https adapter's receiving side: an HTTPS inbox another gateway (or partner) POSTs to.

Options (in the adapter's table, beside the sending ones)::

    inbound_path = "/inbound/hk"        # serve POST here on the gateway's server
    inbound_trust = "partners/hk.pem"   # the sender's certificate: its detached JWS is required
    inbound_tenant = "…"                # the tenant received documents belong to (optional)

A request must carry ``X-Lingang-Message-Id`` (the sender's stable id: a repeat is a
duplicate, answered with the first receipt and not processed again), may carry
``Content-Digest`` (checked), and with ``inbound_trust`` must carry ``X-Lingang-Signature``,
a detached JWS over the body by the trusted key.

``X-Lingang-Receiver`` (``scheme:value``) names the participant the document is for, as the
SBDH receiver does over Peppol; whose the document is follows from it only as far as the
inbox trusts its sender:

* with ``inbound_tenant``, the document is that tenant's; a receiver named must be one of
  that tenant's participants (``[peppol] local_participants``): another tenant's is a 422
  ``inbound.receiver-tenant``, one nobody's a 422 ``peppol.not-serviced``;
* without it, an authenticated sender (``inbound_trust``) addresses any participant this
  gateway receives for, and the document is that participant's tenant's (like any Peppol
  access point sending to ours);
* an inbox with neither takes the receiver from nobody: a request naming one is refused
  (403 ``inbound.receiver-unauthenticated``), since anyone could put a document into any
  tenant's list; without the header the document is kept for no tenant (the operator's
  ``lingang received --unclaimed``).

The body must be an XML document the
inbound flow can read (well-formed, no DTD or entity, within the XML limits): anything else is
refused at once (422 naming the rule, e.g. ``xml.no-dtd``, ``xml.well-formed``) instead of
being acknowledged and then rejected where its sender never learns why. The answer, after the message is stored
durably and its ``receive`` job queued, is ``{"receipt_id", "duplicate"}``: exactly what this
adapter's sending side reads as a receipt. Errors are ``application/problem+json`` naming the
header and rule, never echoing what was sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from cryptography import x509

from adapters.base import REUSED_MESSAGE_ID, InboundDocument, InboundSink
from adapters.retry_after import ASK_TO_WAIT
from gateway.bounded_body import read_bounded
from gateway.errors import InputError, LingangError, VerificationError
from gateway.signing.jws import MESSAGE_ID_HEADER, SIGNATURE_HEADER, verify_detached
from gateway.store import ConflictError
from gateway.xmlsafe import parse_xml

_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._@:+/-]{1,200}$")
_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/=]+):")
RECEIVER_HEADER = "X-Lingang-Receiver"
SENDER_HEADER = "X-Lingang-Sender"
KEPT_HEADERS = {"X-Lingang-Profile": "profile", "X-Lingang-Submission-Id": "sender_submission"}
"""The transport headers kept with a message in its metadata, and the names they are kept as."""
MAX_HEADER_TEXT = 200
_NOT_IN_HEADER_TEXT = re.compile(
    "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
"""What a kept header's text may not hold: control characters, bidirectional overrides and
isolates (they show the sender other than it is on the console's pages), and what bytes
that are not UTF-8 decode to (lone surrogates: no store takes them)."""
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""``type/subtype`` as RFC 9110 8.3.1 writes them (tokens)."""
INLINE_PARSE_BYTES = 256 * 1024
"""A body up to this size is checked on the event loop; a larger one in a thread."""


def body_digest(body: bytes) -> str:
    """The base64 SHA-256 of ``body``, as ``Content-Digest: sha-256=:<this>:`` carries it."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def problem(status: int, rule: str, detail: str, field: str) -> web.Response:
    """An RFC 9457 problem naming the offending header and rule."""
    body = {
        "type": f"urn:lingang:problem:{rule}",
        "title": detail,
        "status": status,
        "detail": detail,
        "errors": [{"field": field, "rule": rule, "message": detail}],
    }
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/problem+json"
    )


@dataclass(slots=True)
class HttpsInbox:
    """Receives POSTs for one adapter and hands them to the gateway's inbound sink."""

    channel: str
    sink: InboundSink | None
    max_bytes: int
    trusted: x509.Certificate | None = None
    tenant_id: str | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """Check, store durably, then acknowledge (see the module docstring)."""
        if self.sink is None:
            return problem(503, "inbound.unavailable", "this gateway does not receive", "path")
        message_id = request.headers.get(MESSAGE_ID_HEADER, "")
        if not _MESSAGE_ID.fullmatch(message_id):
            return problem(
                400, "inbound.message-id", "a safe message id of 1 to 200 characters is required",
                MESSAGE_ID_HEADER,
            )  # fmt: skip
        if request.content_length is not None and request.content_length > self.max_bytes:
            return problem(413, "inbound.max-bytes", f"the limit is {self.max_bytes} bytes", "body")
        try:
            body = await read_bounded(request.content, self.max_bytes)
        except (ValueError, OSError):
            return problem(400, "inbound.body", "the body could not be read", "body")
        if body is None:
            return problem(413, "inbound.max-bytes", f"the limit is {self.max_bytes} bytes", "body")
        refused = (
            _check_kept_headers(request)
            or self._check(request, body)
            or self._check_receiver(request)
        )
        if refused is None:
            refused = await unreadable(body)
        if refused is not None:
            return refused
        try:
            ack = await self.sink.accept(
                InboundDocument(
                    channel=self.channel,
                    message_id=message_id,
                    body=body,
                    media_type=(request.content_type or "application/octet-stream"),
                    sender=request.headers.get(SENDER_HEADER, ""),
                    receiver=request.headers.get(RECEIVER_HEADER, ""),
                    tenant_id=self.tenant_id,
                    metadata=_metadata(request),
                )
            )
        except LingangError as exc:
            return refusal(exc)
        answer = {"receipt_id": ack.inbound_id, "duplicate": ack.duplicate}
        return web.json_response(answer, status=200)

    def _check_receiver(self, request: web.Request) -> web.Response | None:
        """A 403 when an unauthenticated sender names the receiver on an inbox that has no
        tenant of its own (see the module docstring)."""
        if not request.headers.get(RECEIVER_HEADER) or self.tenant_id is not None:
            return None
        if self.trusted is not None:
            return None
        return problem(
            403, "inbound.receiver-unauthenticated",
            "this inbox does not authenticate its sender, so it does not take the receiver "
            "from it (its operator names the inbox's tenant or the sender's certificate)",
            RECEIVER_HEADER,
        )  # fmt: skip

    def _check(self, request: web.Request, body: bytes) -> web.Response | None:
        """Digest and signature; a problem response when either fails."""
        digest = request.headers.get("Content-Digest")
        if digest is not None:
            match = _DIGEST.search(digest)
            if match is None or match.group(1) != body_digest(body):
                return problem(400, "inbound.digest", "Content-Digest does not match the body",
                               "Content-Digest")  # fmt: skip
        if self.trusted is None:
            return None
        token = request.headers.get(SIGNATURE_HEADER)
        if not token:
            return problem(401, "inbound.signature-missing", "a detached JWS is required",
                           SIGNATURE_HEADER)  # fmt: skip
        try:
            verify_detached(token, body, self.trusted.public_key())
        except VerificationError as exc:
            return problem(403, f"inbound.{exc.check}", "the signature does not verify",
                           SIGNATURE_HEADER)  # fmt: skip
        return None


async def unreadable(body: bytes) -> web.Response | None:
    """A 422 naming the rule when ``body`` is not an XML document the inbound flow can read
    (the same safe parse and limits as its ``identify`` stage); ``None`` when it is."""
    try:
        if len(body) <= INLINE_PARSE_BYTES:
            parse_xml(body, what="the document")
        else:
            await asyncio.to_thread(parse_xml, body, what="the document")
    except InputError as exc:
        return problem(422, exc.rule or exc.code, exc.message, "body")
    return None


def refusal(error: LingangError) -> web.Response:
    """The sink refused the message: 503 when a retry can help (the store is down), 409 when
    it conflicts with a request of the same message id still in progress (the sender retries
    it unchanged), else 422 naming the field and rule: a receiver this gateway does not
    serve, or a message id (the ``Idempotency-Key``) used before for another document, which
    draft-ietf-httpapi-idempotency-key-header answers with 422, final for the sender. Nothing
    new was stored in any case."""
    conflict = isinstance(error, ConflictError) and error.rule != REUSED_MESSAGE_ID
    status = 409 if conflict else 503 if error.retryable else 422
    rule = error.rule or error.code
    answer = problem(status, rule, error.message, error.field or "body")
    if status == 503:
        answer.headers["Retry-After"] = ASK_TO_WAIT
    return answer


def _metadata(request: web.Request) -> dict[str, Any]:
    """The transport facts worth keeping with the message."""
    return {
        name: request.headers[header]
        for header, name in KEPT_HEADERS.items()
        if header in request.headers
    }


def _check_kept_headers(request: web.Request) -> web.Response | None:
    """A 400 naming the header when one the message is kept with (its media type, sender,
    profile, submission id) is not text a store keeps and a page shows as it is: bytes
    that are not UTF-8 were a 500 (PostgreSQL and SQLite refuse the lone surrogates they
    decode to), a direction override was shown on the console as the sender's name."""
    media_type = request.headers.get("Content-Type")
    if media_type is not None and not _MEDIA_TYPE.fullmatch(request.content_type):
        return problem(400, "inbound.media-type", "Content-Type names no media type (type/subtype)",
                       "Content-Type")  # fmt: skip
    for header in (SENDER_HEADER, *KEPT_HEADERS):
        value = request.headers.get(header)
        if value is None:
            continue
        if len(value) > MAX_HEADER_TEXT:
            return problem(400, "inbound.header", f"{header} is longer than {MAX_HEADER_TEXT} characters",
                           header)  # fmt: skip
        found = _NOT_IN_HEADER_TEXT.search(value)
        if found is not None:
            what = (
                "a byte that is not UTF-8"
                if "\udc80" <= found.group() <= "\udcff"
                else f"U+{ord(found.group()):04X}"
            )
            return problem(400, "inbound.header",
                           f"{header} holds {what}: no control character, direction override or non-UTF-8 byte",
                           header)  # fmt: skip
    return None
