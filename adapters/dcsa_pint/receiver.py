"""The receiving endpoints of PINT 3.0 on the gateway's server.

=====================================================================  ===========================
``POST /v3/envelopes``                                                 verify; ``RECE``/``DUPE``
                                                                       (200), ``DISE`` (409), or 201
                                                                       with the missing documents
``PUT /v3/envelopes/{ref}/additional-documents/{documentChecksum}``    204, or ``INCD`` (409)
``PUT /v3/envelopes/{ref}/finish-transfer``                            ``RECE``/``DUPE``, ``MDOC``,
                                                                       ``DISE``
``POST /v3/receiver-validation``                                       the party's name, or 404
=====================================================================  ===========================

Every outcome of an envelope is a signed ``EnvelopeTransferFinishedResponse`` (a JSON string
holding the compact JWS) with the HTTP status the standard pairs with its code; only the
registry's :meth:`~gateway.store.ebl.EblRegistry.accept` changes title, in one transaction,
so a refused envelope changes nothing. The envelope reference handed out is the checksum of
the envelope's last chain entry: a sender retrying the same envelope finds its transfer again.
A retry whose last entry is the accepted one signed again (same payload) is ``DUPE`` too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from adapters.base import InboundRoute
from adapters.dcsa_pint.options import DEFAULT_MAX_DOCUMENT_BYTES
from adapters.dcsa_pint.platform import MAX_PARTY_CODE, PintPlatform
from gateway.bounded_body import read_bounded
from gateway.errors import VerificationError
from gateway.jsontext import DuplicateMember, unfit_text, unique_members
from gateway.pint.chain import VerifiedEnvelope
from gateway.pint.checksums import bytes_checksum, is_checksum, jws_checksum
from gateway.pint.codes import PintRejection, ResponseCode
from gateway.pint.responses import sign_response
from gateway.pint.stored import entry_payload
from gateway.store.ebl import CarriedDocument, Decision, NewTitle

log = logging.getLogger("lingang.pint")

JSON = "application/json"


class PintReceiver:
    """Serves the PINT receiving endpoints for one platform."""

    def __init__(
        self,
        platform: PintPlatform,
        *,
        max_body_bytes: int,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        self.platform = platform
        self.max_body_bytes = max_body_bytes
        """The largest envelope body read (``limits.max_body_bytes``)."""
        self.max_document_bytes = max_document_bytes
        """The largest additional document taken, decoded (the adapter's
        ``max_document_bytes``): an envelope announcing a larger one is BENV at its start, a
        PUT body longer than its base64 could be is 413. It does not depend on
        :attr:`max_body_bytes`: a document's PUT is read up to its own bound."""

    def routes(self) -> list[InboundRoute]:
        return [
            InboundRoute("POST", "/v3/envelopes", self.start),
            InboundRoute(
                "PUT", "/v3/envelopes/{ref}/additional-documents/{checksum}", self.document
            ),
            InboundRoute("PUT", "/v3/envelopes/{ref}/finish-transfer", self.finish),
            InboundRoute("POST", "/v3/receiver-validation", self.receiver_validation),
        ]

    # -- answers ------------------------------------------------------------------------

    def _signed(
        self,
        code: ResponseCode,
        last_checksum: str,
        *,
        reason: str = "",
        duplicate_of: str | None = None,
        missing: Sequence[str] = (),
        received: Sequence[str] = (),
    ) -> web.Response:
        token = sign_response(
            self.platform.options.signer, code, last_checksum, reason=reason,
            duplicate_of=duplicate_of, missing=missing, received=received,
        )  # fmt: skip
        return web.Response(
            status=code.http_status,
            text=json.dumps(token),
            content_type=JSON,
            headers={"API-Version": "3.0.0"},
        )

    def _decided(self, decision: Decision, last_checksum: str) -> web.Response:
        code = ResponseCode(decision.code)
        return self._signed(
            code, last_checksum, reason=decision.reason,
            duplicate_of=decision.duplicate_of, received=decision.received,
        )  # fmt: skip

    @staticmethod
    def _error(request: web.Request, status: int, text: str, message: str) -> web.Response:
        """A DCSA ``ErrorResponse``: ``statusCodeText`` is the status's standard phrase
        ("a standard short description corresponding to the HTTP status code": ``Not
        Found``), ``text`` the error's own short description (``errorCodeText``)."""
        body = {
            "httpMethod": request.method,
            "requestUri": request.path,
            "statusCode": status,
            "statusCodeText": HTTPStatus(status).phrase,
            "statusCodeMessage": message[:200],
            "errorDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "errors": [
                {
                    "errorCode": 7000 + status,
                    "errorCodeText": text,
                    "errorCodeMessage": message[:5000],
                }
            ],
        }
        return web.json_response(body, status=status, headers={"API-Version": "3.0.0"})

    def _too_large(self, documents: Mapping[str, Any], missing: Sequence[str]) -> str | None:
        """Why a document the envelope announces can never be taken here (larger than
        :attr:`max_document_bytes`), or ``None``: refused at the start, so the sender does
        not send it only to be told INCD, again and again."""
        for checksum in missing:
            size = documents[checksum].get("size")
            if isinstance(size, int) and size > self.max_document_bytes:
                return (
                    f"additional document {checksum} is {size} bytes; this platform takes "
                    f"documents of up to {self.max_document_bytes} bytes"
                )
        return None

    async def _json(self, request: web.Request, *, check_text: bool = True) -> Any:
        raw = await read_bounded(request.content, self.max_body_bytes)
        if raw is None:
            raise PintRejection(
                f"the body exceeds {self.max_body_bytes} bytes",
                response=ResponseCode.BENV,
                field="$",
            )
        return _parsed(raw, check_text=check_text)

    # -- POST /v3/envelopes -------------------------------------------------------------

    async def start(self, request: web.Request) -> web.StreamResponse:
        fallback = hashlib.sha256(b"").hexdigest()
        try:
            envelope = await self._json(request, check_text=False)
            fallback = _claimed_last(envelope) or fallback
            _check_text(envelope)
            verified = await self.platform.verify_fetching(envelope)
        except PintRejection as exc:
            log.info("envelope refused", extra={"code": exc.response.value, "error": exc.message})
            return self._signed(exc.response, fallback, reason=exc.message)
        registry = self.platform.registry
        duplicate = await registry.accepted(verified.last_checksum)
        if duplicate is not None:
            return self._decided(duplicate, verified.last_checksum)
        known = await registry.get(verified.transport_document_checksum)
        if known is not None and not await registry.continues(known, verified.chain):
            duplicate = await registry.accepted(verified.last_checksum)  # accepted meanwhile
            if duplicate is None:
                resigned = _resigned_entry(known.chain, verified)
                duplicate = None if resigned is None else await registry.accepted(resigned)
            if duplicate is not None:
                return self._decided(duplicate, verified.last_checksum)
            return self._signed(
                ResponseCode.DISE, verified.last_checksum,
                reason=f"this platform knows the eBL as {known.state} with a chain this envelope does not continue",
            )  # fmt: skip
        present = await registry.present_documents(list(verified.documents))
        missing = [c for c in verified.documents if c not in present]
        if not missing:
            return await self._accept(verified, inbound=None)
        too_large = self._too_large(verified.documents, missing)
        if too_large is not None:
            return self._signed(ResponseCode.BENV, verified.last_checksum, reason=too_large)
        reference = verified.last_checksum
        duplicate = await registry.open_inbound(
            reference, verified.transport_document_checksum, envelope, verified.documents
        )
        if duplicate is not None:  # accepted meanwhile
            return self._decided(duplicate, reference)
        return web.json_response(
            {
                "envelopeReference": reference,
                "transportDocumentChecksum": verified.transport_document_checksum,
                "lastEnvelopeTransferChainEntrySignedContentChecksum": verified.last_checksum,
                "missingAdditionalDocumentChecksums": missing,
            },
            status=201,
            headers={"API-Version": "3.0.0"},
        )

    async def _accept(self, verified: VerifiedEnvelope, *, inbound: str | None) -> web.Response:
        title = verified.title
        mine = title.possessor.platform == self.platform.code
        state = "surrendered" if title.surrendered else "held" if mine else "transferred"
        new = NewTitle(
            td_checksum=verified.transport_document_checksum,
            reference=verified.reference,
            state=state,
            possessor=title.possessor.label(),
            chain=verified.chain,
            checksums=verified.checksums,
            title=title.as_json(),
            transport_document=verified.transport_document,
        )
        decision = await self.platform.registry.accept(
            new,
            sender=verified.sender,
            received=list(verified.documents),
            inbound=inbound,
            documents=[_carried(c, m) for c, m in verified.documents.items()],
        )
        log.info(
            "envelope decided",
            extra={
                "code": decision.code,
                "reference": verified.reference,
                "sender": verified.sender,
            },
        )
        return self._decided(decision, verified.last_checksum)

    # -- PUT additional documents -----------------------------------------------------

    async def document(self, request: web.Request) -> web.StreamResponse:
        reference, checksum = request.match_info["ref"], request.match_info["checksum"]
        inbound = (
            await self.platform.registry.inbound(reference) if is_checksum(reference) else None
        )
        if inbound is None:
            return self._error(
                request, 404, "Unknown envelope", f"no active envelope transfer {reference[:100]!r}"
            )
        last = reference

        def incd(message: str) -> web.Response:
            return self._signed(ResponseCode.INCD, last, reason=message)

        if not is_checksum(checksum) or checksum not in inbound.documents:
            return incd(f"document {checksum[:64]} is not announced in the envelope manifest")
        expected = inbound.documents[checksum].get("size")
        limit = base64_length(self.max_document_bytes) + 2  # a JSON string: its quotes
        raw = await read_bounded(request.content, limit)
        if raw is None:
            return self._error(
                request, 413, "Payload Too Large",
                f"documents of up to {self.max_document_bytes} bytes are taken here",
            )  # fmt: skip
        try:
            encoded = _parsed(raw)
        except PintRejection as exc:
            return incd(exc.message)
        if not isinstance(encoded, str):
            return incd("the body must be a JSON string of base64")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return incd("the body is not valid base64")
        if bytes_checksum(data) != checksum:
            return incd("the document's SHA-256 does not match its checksum")
        if expected is not None and expected != len(data):
            return incd(f"the document has {len(data)} bytes, the manifest says {expected}")
        media = str(inbound.documents[checksum].get("mediaType") or "application/octet-stream")
        await self.platform.registry.put_document(checksum, media, data)
        return web.Response(status=204, headers={"API-Version": "3.0.0"})

    # -- PUT finish-transfer ------------------------------------------------------------

    async def finish(self, request: web.Request) -> web.StreamResponse:
        reference = request.match_info["ref"]
        registry = self.platform.registry
        inbound = await registry.inbound(reference) if is_checksum(reference) else None
        if inbound is None:
            duplicate = await registry.accepted(reference) if is_checksum(reference) else None
            if duplicate is not None:
                return self._decided(duplicate, reference)
            return self._error(
                request, 404, "Unknown envelope", f"no active envelope transfer {reference[:100]!r}"
            )
        try:
            verified = await self.platform.verify_async(inbound.envelope)
        except PintRejection as exc:  # keys changed since the start: the transfer ends
            await registry.close_inbound(reference)
            return self._signed(exc.response, reference, reason=exc.message)
        present = await registry.present_documents(list(verified.documents))
        missing = [c for c in verified.documents if c not in present]
        if missing:
            return self._signed(
                ResponseCode.MDOC,
                reference,
                reason=f"{len(missing)} additional documents are missing",
                missing=missing,
            )
        return await self._accept(verified, inbound=reference)

    # -- POST /v3/receiver-validation -----------------------------------------------------

    async def receiver_validation(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await self._json(request)
        except PintRejection as exc:
            return self._error(request, 400, "Bad Request", exc.message)
        fields = body if isinstance(body, dict) else {}
        provider = _text_of(fields.get("codeListProvider"), MAX_CODE_LIST_PROVIDER)
        code = _text_of(fields.get("partyCode"), MAX_PARTY_CODE)
        if provider is None or code is None:
            return self._error(
                request,
                400,
                "Bad Request",
                "an IdentifyingCode needs codeListProvider (a string of 1 to "
                f"{MAX_CODE_LIST_PROVIDER} characters) and partyCode (1 to {MAX_PARTY_CODE})",
            )
        name = self.platform.options.party_name(provider, code)
        if name is None:
            return self._error(request, 404, "Unknown party", "Unknown party")
        return web.json_response({"partyName": name}, headers={"API-Version": "3.0.0"})


MAX_CODE_LIST_PROVIDER = 100
"""Longest ``codeListProvider`` of DCSA's ``IdentifyingCode``."""


def _text_of(value: Any, longest: int) -> str | None:
    """``value`` if it is a string of 1 to ``longest`` characters, else ``None``."""
    return value if isinstance(value, str) and 0 < len(value) <= longest else None


def _check_text(value: Any) -> None:
    """Refuse (BENV) text no checksum or store can take: a lone surrogate cannot be
    canonicalised as UTF-8, PostgreSQL refuses a NUL."""
    unfit = unfit_text(value)
    if unfit is not None:
        where, why = unfit
        raise PintRejection(f"{where} {why}", response=ResponseCode.BENV, field=f"$.{where}")


def _parsed(raw: bytes, *, check_text: bool = True) -> Any:
    """A request body as JSON (with ``check_text``, no text PostgreSQL or XML cannot keep)."""
    try:
        value = json.loads(raw, object_pairs_hook=unique_members)
    except DuplicateMember as exc:  # checksums are SHA-256 of RFC 8785 form: I-JSON only
        raise PintRejection(
            f"the body is not I-JSON: {exc}", response=ResponseCode.BENV, field="$"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise PintRejection(
            f"the body is not JSON: {exc}", response=ResponseCode.BENV, field="$"
        ) from exc
    if check_text:
        _check_text(value)
    return value


def base64_length(size: int) -> int:
    """The length of ``size`` bytes in base64 (with padding)."""
    return 4 * ((size + 2) // 3)


def _claimed_last(envelope: Any) -> str | None:
    """The checksum of the envelope's last chain entry, before anything is verified."""
    if isinstance(envelope, dict):
        chain = envelope.get("envelopeTransferChain")
        if isinstance(chain, list) and chain and isinstance(chain[-1], str) and chain[-1].isascii():
            return hashlib.sha256(chain[-1].encode("ascii")).hexdigest()
    return None


def _carried(checksum: str, metadata: Mapping[str, Any]) -> CarriedDocument:
    """A document an accepted envelope announced, as the eBL carries it here: named as the
    manifest (``DocumentMetadata``, schema-checked) named it."""
    name = metadata.get("name")
    media = metadata.get("mediaType")
    return CarriedDocument(
        checksum,
        name if isinstance(name, str) and name else checksum,
        media if isinstance(media, str) and media else "application/octet-stream",
    )


def _resigned_entry(known: Sequence[str], verified: VerifiedEnvelope) -> str | None:
    """The checksum of the entry this platform holds that the envelope's last entry signs
    again, or ``None``: the same entries before it, and the same payload under another
    signature (a sender retrying with its latest entry signed again, e.g. by a new key).
    PINT 3.0 answers such a retry ``DUPE`` with the entry accepted before ("the provided
    entry might differ in the retry"), not ``DISE``: nothing in it contradicts the chain."""
    last = len(verified.chain) - 1
    if len(known) <= last or list(known[:last]) != list(verified.chain[:last]):
        return None
    try:
        same = entry_payload(known[last]) == verified.entries[last]
    except VerificationError:
        return None
    return jws_checksum(known[last]) if same else None
