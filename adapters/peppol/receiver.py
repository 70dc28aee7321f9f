"""The ``peppol`` adapter's receiving side: the AS4 endpoint of corner 3 (``POST /as4``).

Options, beside the sending ones in the adapter's table (see :mod:`adapters.peppol.adapter`)::

    receive_path = "/as4"                  # serve the AS4 endpoint here (unset: not receiving)
    receive_document_types = []            # document type values we accept (default: below)
    crls = ["pki/ap-ca.crl.pem"]           # CRL files for the senders' certificates (optional)

The sending APs' certificates must chain to ``ap_trust``; revocation follows ``revocation``
(``soft-fail``: an unknown status is accepted, a revoked certificate never). Our key and
certificate (``key`` / ``cert``) decrypt and sign the receipts; our seat id is the
certificate's CN and must be the message's ``To/PartyId``.

One request, in order::

    body ≤ limit ──► MIME ─► SOAP ─► the Peppol P-Mode (adapters.peppol.pmode)
        ─► signer trusted (chain, validity, revocation; the verdict kept per certificate:
           SenderVerdicts)
        ─► decrypt ─► signature and coverage ─► every payload came encrypted ─► gunzip (capped)
        ─► the document within the size limit the inbound flow applies
        ─► SBDH: XSD, HeaderVersion 1.0, Peppol scopes (each once; COUNTRY_C1 assigned,
           MLS_TYPE known …), Standard/Type = the payload's root, DOCUMENTID = Standard::Type##…
           ending in the TypeVersion, its customization = the payload's CustomizationID and
           PROCESSID = its ProfileID (where it carries them), Sender/Receiver = the payload's seller/buyer electronic
           address for a BIS 3 (UBL or CII) or PINT invoice or credit note (BR-SBDH-1..4,
           reversed for self-billing; :func:`adapters.peppol.envelope_parties.enveloped_parties`), = the
           AS4 originalSender/finalRecipient, Action and Service ─► document type served
           (under its code-list scheme, with its process)?
        ─► signed receipt built ─► known? (MessageId, or the sending AP + SBDH
           InstanceIdentifier: a replay; see As4Receiver._known) ─► the sink stores message
           + ``receive`` job + receipt in one transaction (a known MessageId: nothing new,
           the ORIGINAL receipt)
        ─► the receipt, synchronously

A refusal is a signed ebMS error: ``EBMS:0101`` authentication/signature (also an untrusted,
expired or revoked sender certificate, or one of the other Peppol network: test vs
production), ``EBMS:0102`` decryption, ``EBMS:0103`` policy (not signed, a part the
signature does not cover, a payload not encrypted to us, a signature or encryption method
or key reference other than the profile's), ``EBMS:0303``
decompression, ``EBMS:0007`` MIME, ``EBMS:0009`` header, ``EBMS:0010`` a value the Peppol
P-Mode fixes (a RefToMessageId, MPC, roles, party type, AgreementRef, Service type, ``trackingIdentifier``,
compression), ``EBMS:0011`` an external payload, ``EBMS:0003`` AS4 header ≠ SBDH,
``EBMS:0004`` other (a bad SBDH, one naming other parties, another document type or
process than its payload, a body or a decompressed document over the limit: the profile's
error for a check of the payload) and ``EBMS:0004`` with
``PEPPOL:NOT_SERVICED`` for a receiver or document type not served here; ``EBMS:0005`` with
HTTP 503 when the store cannot take the message now (the sender retries). Nothing is
acknowledged before it is stored; every request is logged by MessageId and verdict, never
with document content.

The checks run on the event loop for an ordinary message whose sender certificate has a
kept verdict (no network, a few milliseconds of CPU: cheaper than a hop to a worker thread
and back), in a worker thread otherwise (:data:`INLINE_BYTES`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from adapters.base import InboundDocument, InboundRoute, InboundSink
from adapters.peppol import as4, signals
from adapters.peppol.errors import EbmsError
from adapters.peppol.identifiers import (
    BIS3_CREDIT_NOTE,
    BIS3_INVOICE,
    BIS3_PROCESS,
    DOCTYPE_SCHEME_QNS,
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    PROCESS_SCHEME,
    DocumentTypeId,
    profile_document_type,
)
from adapters.peppol.sbdh import Sbdh, parse_sbdh
from adapters.peppol.trust import SenderVerdicts, check_network, common_name, peppol_network
from adapters.peppol.wssec import Credentials
from adapters.retry_after import ASK_TO_WAIT
from gateway.bounded_body import read_bounded
from gateway.errors import ConfigError, LingangError
from gateway.signing.truststore import TrustStore
from gateway.store.peppol_instances import (
    DUPLICATE,
    FOREIGN,
    IN_FLIGHT,
    NEW,
    REPLAY,
    REUSED,
    PeppolInstances,
)
from gateway.validation.xsd import compile_schema

log = logging.getLogger("lingang.peppol.as4")

NOT_SERVICED_RULE = "peppol.not-serviced"
"""The rule of the sink's refusal of a receiver this gateway does not serve."""
MLS_DOCUMENT_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::"
    "ApplicationResponse##urn:peppol:edec:mls:1.0::2.1"
)
DEFAULT_DOCUMENT_TYPES = frozenset(
    {
        BIS3_INVOICE.value,
        BIS3_CREDIT_NOTE.value,
        PINT_SG_INVOICE.value,
        PINT_SG_CREDIT_NOTE.value,
        profile_document_type("pint", credit_note=False).value,
        profile_document_type("pint", credit_note=True).value,
        profile_document_type("bis3-cii", credit_note=False).value,
        MLS_DOCUMENT_TYPE,
    }
)
"""What the inbound flow reads: BIS 3 (UBL, CII), PINT and PINT SG invoices and credit
notes, and Message Level Status."""
DEFAULT_SCHEMES: Mapping[str, str] = {
    doctype.value: doctype.scheme
    for doctype in (
        BIS3_INVOICE,
        BIS3_CREDIT_NOTE,
        PINT_SG_INVOICE,
        PINT_SG_CREDIT_NOTE,
        profile_document_type("pint", credit_note=False),
        profile_document_type("pint", credit_note=True),
        profile_document_type("bis3-cii", credit_note=False),
        DocumentTypeId(MLS_DOCUMENT_TYPE, DOCTYPE_SCHEME_QNS),
    )
}
"""The identifier scheme each of :data:`DEFAULT_DOCUMENT_TYPES` has in the Peppol code lists
v9.7 (Document types): ``peppol-doctype-wildcard`` for the PINT ones (PINT SG BIS §5.1.2:
only that scheme is allowed), ``busdox-docid-qns`` for the others. The same value under the
other scheme is another document type identifier, one no receiver registers."""
_BIS3_UBL_PROCESSES = frozenset(
    {
        BIS3_PROCESS.value,
        "urn:peppol:bis:billing_with_response",
        "urn:peppol:france:billing:regulated",
        "urn:peppol:france:billing:non-regulated",
    }
)
DEFAULT_PROCESSES: Mapping[str, frozenset[str]] = {
    BIS3_INVOICE.value: _BIS3_UBL_PROCESSES,
    BIS3_CREDIT_NOTE.value: _BIS3_UBL_PROCESSES,
    PINT_SG_INVOICE.value: frozenset({PINT_PROCESS.value}),
    PINT_SG_CREDIT_NOTE.value: frozenset({PINT_PROCESS.value}),
    profile_document_type("pint", credit_note=False).value: frozenset({PINT_PROCESS.value}),
    profile_document_type("pint", credit_note=True).value: frozenset({PINT_PROCESS.value}),
    profile_document_type("bis3-cii", credit_note=False).value: frozenset({BIS3_PROCESS.value}),
    MLS_DOCUMENT_TYPE: frozenset({"urn:peppol:edec:mls"}),
}
"""The processes (scheme ``cenbii-procid-ubl``) each of :data:`DEFAULT_DOCUMENT_TYPES` is
received under: its ``process-id`` list in the Peppol code lists v9.7 (Document types). A
document type an operator adds in ``receive_document_types`` is received under any process."""
SBDH_SET = ("sbdh", "1.3", "StandardBusinessDocumentHeader.xsd")
INLINE_BYTES = 256 * 1024
"""Messages up to this size from a sender whose certificate has a kept verdict are checked
on the event loop (a few milliseconds of CPU, no network): a hop to a worker thread per
message costs more than it spares. Larger ones, and first sightings of a certificate (the
revocation check may ask the network), are checked in a worker thread."""
SBDH_HEAD_BYTES = 64 * 1024
"""What the SBDH may add to the business document it carries (its header, declarations): an
SBDH larger than the document limit plus this is refused unread."""
INLINE_PAYLOAD = 4 * 1024 * 1024
"""The decompressed size the event loop handles; a larger payload is handled in a thread."""
_MESSAGE_ID = re.compile(
    rb"<(?:\w+:)?MessageId>\s*([\x21-\x3b\x3d-\x7e]{1,256})\s*</(?:\w+:)?MessageId>"
)
"""A MessageId as an unverified message carries it: printable ASCII (RFC 2822's msg-id,
which ebMS 3.0 5.2.2.1 requires, has nothing else), so that it can be echoed as the
RefToMessageId of the error answering it; a control character there made building that
error fail (lxml refuses it), and the sender got a 500 instead of an ebMS error."""


@dataclass(frozen=True, slots=True)
class ReceiveOptions:
    """How this access point receives."""

    path: str
    credentials: Credentials
    ap_trust: TrustStore
    document_types: frozenset[str] = DEFAULT_DOCUMENT_TYPES
    sbdh_schema: Path | None = None
    """The official SBDH XSD (``None``: the header is checked by our reader only)."""

    @property
    def seat_id(self) -> str:
        """Our seat id: the CN of our AP certificate."""
        return common_name(self.credentials.cert)


def sbdh_schema_path(artefacts_home: Path | None, where: str) -> Path | None:
    """The installed, hash-checked SBDH XSD; :class:`ConfigError` when it is not installed."""
    if artefacts_home is None:
        return None
    from gateway.artefacts.store import require_files

    name, version, file = SBDH_SET
    try:
        return require_files(name, version, [file], artefacts_home)[0]
    except LingangError as exc:
        raise ConfigError(
            f"receiving Peppol needs the SBDH XSD: {exc.message}", field=where
        ) from exc


@dataclass(frozen=True, slots=True)
class Accepted:
    """A verified message, its SBDH and the receipt that answers it."""

    incoming: as4.IncomingMessage
    sbdh: Sbdh
    receipt: bytes


class _NeedsThread(Exception):
    """The message needs the network or much CPU: check it in a worker thread instead."""


ANSWERED = 200
"""The HTTP status of an ebMS error answering a message we could read (its MessageId known):
the error signal is an ordinary SOAP response, not a fault (SOAP 1.2 part 2 §7.5), and phase4
before 4.1.1 reads the answer of a 2xx only, so a 4xx lost the error's detail and looked like
a failure worth retrying. Not an AS4 message at all stays 400; too large 413, "later" 503."""


class Refused(Exception):
    """An ebMS error to answer (with the HTTP status)."""

    def __init__(self, error: EbmsError, status: int = 400, rule: str = "") -> None:
        super().__init__(error.description)
        self.error = error
        self.status = status
        self.rule = rule or error.code


class As4Receiver:
    """Serves ``POST <path>``: see the module docstring."""

    def __init__(
        self,
        channel: str,
        options: ReceiveOptions,
        sink: InboundSink,
        *,
        max_bytes: int,
        instances: PeppolInstances | None = None,
    ) -> None:
        self.channel = channel
        self.options = options
        self.sink = sink
        self.max_bytes = max_bytes
        self.instances = instances
        """Replay detection by SBDH InstanceIdentifier (``None``: by MessageId only)."""
        self.seat_id = options.seat_id
        self.network = peppol_network(options.credentials.cert)
        """Our Peppol network (our certificate's OU; ``None``: it names none)."""
        self.senders = SenderVerdicts(options.ap_trust)
        self.sbdh_schema = (
            compile_schema(options.sbdh_schema) if options.sbdh_schema is not None else None
        )
        """The SBDH XSD, compiled once, now, and shared by every thread that checks a message
        (see :func:`gateway.validation.xsd.compile_schema`): a copy compiled per thread, while
        other threads compiled or validated theirs, crashed ``serve`` (SIGSEGV) at start."""

    def routes(self) -> Sequence[InboundRoute]:
        return [InboundRoute("POST", self.options.path, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """One AS4 exchange: the receipt or an ebMS error, never an exception."""
        message_id = ""
        try:
            body = await self._read(request)
            content_type = request.headers.get("Content-Type", "")
            message_id = _peek_message_id(body)
            accepted = await self._verified(content_type, body)
            message_id = accepted.incoming.header.message_id
            answer, verdict = await self._store(accepted)
        except Refused as refused:
            log.info(
                "AS4 message refused",
                extra={
                    "channel": self.channel,
                    "message_id": message_id,
                    "ebms_code": refused.error.code,
                    "rule": refused.rule,
                    "reason": refused.error.description,
                },
            )
            return self._error(message_id, refused)
        log.info(
            "AS4 message received",
            extra={"channel": self.channel, "message_id": message_id, "verdict": verdict},
        )
        return _soap(200, answer)

    async def _read(self, request: web.Request) -> bytes:
        too_large = Refused(
            EbmsError(
                code="EBMS:0004",
                severity="failure",
                description=f"the message is larger than {self.max_bytes} bytes",
            ),
            status=413,
            rule="as4.max-bytes",
        )
        if request.content_length is not None and request.content_length > self.max_bytes:
            raise too_large
        try:
            body = await read_bounded(request.content, self.max_bytes)
        except (ValueError, OSError) as exc:
            raise Refused(
                EbmsError(code="EBMS:0004", severity="failure", description="unreadable body"),
                rule="as4.body",
            ) from exc
        if body is None:
            raise too_large
        return body

    async def _verified(self, content_type: str, body: bytes) -> Accepted:
        """:meth:`verify` on the event loop when that is cheap (see :data:`INLINE_BYTES`),
        else in a worker thread."""
        if len(body) <= INLINE_BYTES:
            try:
                return self.verify(content_type, body, inline=True)
            except _NeedsThread:
                pass
        return await asyncio.to_thread(self.verify, content_type, body)

    def verify(self, content_type: str, body: bytes, *, inline: bool = False) -> Accepted:
        """Authenticate, decrypt, check the SBDH and build the receipt (CPU and, for
        revocation, network work). ``inline``: raise :class:`_NeedsThread` instead of asking
        the network about a certificate or decompressing more than :data:`INLINE_PAYLOAD`.

        The SBDH is decompressed up to the largest one a document within the limit can
        have (:data:`SBDH_HEAD_BYTES` more than ``max_bytes``) and no further: a larger
        one is refused at its first byte over, never held in memory whole."""
        limit = self.max_bytes + SBDH_HEAD_BYTES
        try:
            incoming = as4.parse_user_message(
                content_type,
                body,
                credentials=self.options.credentials,
                check_signer=self._check_known_sender if inline else self._check_sender,
                max_payload=min(limit, INLINE_PAYLOAD) if inline else limit,
            )
        except as4.As4Invalid as exc:
            if exc.rule == "as4.decompress-limit":
                if inline and limit > INLINE_PAYLOAD:
                    raise _NeedsThread from exc
                raise self._too_large(f"more than {limit} bytes with its SBDH") from exc
            raise _refusal(exc.ebms_code, exc.message, exc.rule) from exc
        header = incoming.header
        if header.to_party != self.seat_id:
            raise _refusal(
                "EBMS:0003",
                f"the message is addressed to the access point {header.to_party}, "
                f"this is {self.seat_id}",
                "as4.to-party",
            )
        signer = common_name(incoming.signer)
        if header.from_party != signer:
            raise _refusal(
                "EBMS:0003",
                f"the message names the sending access point {header.from_party}, but it is "
                f"signed by {signer} (PartyId is the CN of the sender's AP certificate)",
                "as4.from-party",
            )
        if len(incoming.sbdh) > limit:
            raise self._too_large(f"{len(incoming.sbdh)} bytes with its SBDH")
        try:
            sbdh = parse_sbdh(incoming.sbdh, schema=self.sbdh_schema)
        except LingangError as exc:
            raise _refusal("EBMS:0004", f"SBDH: {exc.message}", exc.rule or "peppol.sbdh") from exc
        if len(sbdh.payload) > self.max_bytes:
            raise self._too_large(f"{len(sbdh.payload)} bytes")
        try:
            as4.check_header_matches_sbdh(header, sbdh.header)
        except as4.As4Invalid as exc:
            raise _refusal(exc.ebms_code, exc.message, exc.rule) from exc
        doctype = sbdh.header.document_type.value
        if doctype not in self.options.document_types:
            raise Refused(
                signals.not_serviced(
                    header.message_id, "this access point does not receive this document type"
                ),
                rule="peppol.doctype-not-serviced",
            )
        scheme = DEFAULT_SCHEMES.get(doctype)
        if scheme is not None and sbdh.header.document_type.scheme != scheme:
            raise Refused(
                signals.not_serviced(
                    header.message_id,
                    f"this access point receives this document type under the identifier "
                    f"scheme {scheme}, not {sbdh.header.document_type.scheme} (the Peppol code "
                    "list's scheme for it)",
                ),
                rule="peppol.doctype-scheme-not-serviced",
            )
        process = sbdh.header.process
        processes = DEFAULT_PROCESSES.get(doctype)
        if processes is not None and (
            process.scheme != PROCESS_SCHEME or process.value not in processes
        ):
            raise Refused(
                signals.not_serviced(
                    header.message_id,
                    f"this access point does not receive this document type under the process "
                    f"{process.uri()} (it does under {', '.join(sorted(processes))})",
                ),
                rule="peppol.process-not-serviced",
            )
        receipt = signals.build_receipt(incoming, self.options.credentials)
        return Accepted(incoming, sbdh, receipt)

    def _too_large(self, size: str) -> Refused:
        """The business document, once decompressed, is over the limit the inbound flow holds
        every received document to (``[limits] max_body_bytes``, rule ``ingest.max-bytes``):
        refused now, before a receipt acknowledges a document that can never be processed
        (it used to be receipted, stored, then rejected by MLS as a syntax violation)."""
        return _refusal(
            "EBMS:0004",
            f"the business document is {size} once decompressed; this access point "
            f"takes documents of up to {self.max_bytes} bytes",
            "as4.payload-max-bytes",
        )

    def _check_known_sender(self, cert: x509.Certificate) -> object:
        self._check_network(cert)
        path = self.senders.kept(cert)
        if path is None:
            raise _NeedsThread
        return path

    def _check_sender(self, cert: x509.Certificate) -> object:
        self._check_network(cert)
        return self.senders.check(cert)

    def _check_network(self, cert: x509.Certificate) -> None:
        """The sending AP's certificate must be of our Peppol network: production and test
        are separate networks (an AP certificate says which in its subject OU, ``PEPPOL
        PRODUCTION AP`` / ``PEPPOL TEST AP``, else through its issuing OpenPeppol CA), so a
        test AP's message never reaches a production receiver, nor the reverse, even where
        ``ap_trust`` holds the CAs of both (a combined bundle). The same rule as the sending
        side's (:func:`~adapters.peppol.trust.check_network`); :class:`VerificationError`
        (``EBMS:0101``) else; a certificate of ours that names neither network (a private
        PKI) is not compared."""
        check_network(
            cert, self.network, "the sending access point's certificate", rule="as4.sender-network"
        )

    async def _store(self, accepted: Accepted) -> tuple[bytes, str]:
        """Hand the message to the sink unless it is known; the answer to give (the first
        receipt on a duplicate) and the verdict (``new``, ``duplicate``, ``replay``)."""
        header, sbdh = accepted.incoming.header, accepted.sbdh.header
        try:
            known = await self._known(accepted) if self.instances is not None else None
            if known is not None:
                return known
            ack = await self.sink.accept(
                InboundDocument(
                    channel=self.channel,
                    message_id=header.message_id,
                    body=accepted.sbdh.payload,
                    media_type="application/xml",
                    sender=sbdh.sender.value,
                    receiver=sbdh.receiver.value,
                    metadata={"peppol": peppol_facts(accepted)},
                    answer=accepted.receipt,
                )
            )
            if ack.duplicate and self.instances is not None:
                await self._check_same_sender(accepted)
        except LingangError as exc:
            if exc.rule == NOT_SERVICED_RULE:
                raise Refused(
                    signals.not_serviced(header.message_id, exc.message), rule=NOT_SERVICED_RULE
                ) from exc
            if exc.retryable:
                raise Refused(
                    EbmsError(
                        code="EBMS:0005",
                        severity="failure",
                        description="the message cannot be stored now; send it again later",
                    ),
                    status=503,
                    rule="as4.store-unavailable",
                ) from exc
            raise _refusal("EBMS:0004", exc.message, exc.rule or exc.code) from exc
        return (ack.answer or accepted.receipt), DUPLICATE if ack.duplicate else NEW

    async def _check_same_sender(self, accepted: Accepted) -> None:
        """A MessageId the sink knew must have come from this AP (a new document claimed
        under the MessageId of another AP's message)."""
        assert self.instances is not None
        message_id = accepted.incoming.header.message_id
        seat = await self.instances.seat_of(self.channel, message_id)
        if seat is not None and seat != common_name(accepted.incoming.signer):
            raise _message_id_taken(message_id)

    async def _known(self, accepted: Accepted) -> tuple[bytes, str] | None:
        """The answer to a message the store knows already (``None``: a new one, claimed).

        Keys: the sending AP — its seat id, the CN of the certificate that signed this
        message, which a certificate renewal keeps — and the SBDH InstanceIdentifier, which
        the Peppol Business Message Envelope makes globally unique per document.

        * The same MessageId again (a retry) from the same AP: its first receipt, nothing
          new. From another AP: refused (``EBMS:0004``): a MessageId names one message, and
          one AP never gets the receipt of another's.
        * **A replay** — a document already received from this AP, under a new MessageId:
          at the AS4 level this is a new, well-formed, authenticated message (the profile
          has no rule against it and the sender did nothing wrong there), so it gets its own
          signed receipt; but the document is not stored or handed on to the local system a
          second time, so it reaches it once. The replay is logged (a warning naming both
          MessageIds and the InstanceIdentifier, no content) and kept in
          ``peppol_replays`` with its receipt, which a retry of it gets again.
        * **Another document under a used InstanceIdentifier** (the same AP, a new MessageId,
          other bytes): refused (``EBMS:0004``). A replay's receipt would acknowledge a
          document that is never handed on.
        * A document whose first MessageId holds the claim but is not stored (being stored
          now, or refused or cut off before): ``EBMS:0005``, HTTP 503, the sender retries.

        The message is fully authenticated before this is asked (signature over every part,
        sender certificate), so a forged copy never gets past the check to a stored
        receipt."""
        assert self.instances is not None
        header, sbdh = accepted.incoming.header, accepted.sbdh.header
        seat = common_name(accepted.incoming.signer)
        key = {
            "channel": self.channel,
            "message_id": header.message_id,
            "c2_seat": seat,
            "instance_id": sbdh.instance_id or f"(none) {header.message_id}",
        }
        if await self.instances.claim(**key):
            return None
        arrival = await self.instances.arrive(
            **key, answer=accepted.receipt, document=accepted.sbdh.payload
        )
        if arrival.verdict == NEW:
            return None
        if arrival.verdict == FOREIGN:
            raise _message_id_taken(header.message_id)
        if arrival.verdict == REUSED:
            raise _refusal(
                "EBMS:0004",
                f"the SBDH InstanceIdentifier {sbdh.instance_id} came before from this access "
                f"point with another document (MessageId {arrival.first_message_id}): an "
                "InstanceIdentifier names one document; give this one its own",
                "as4.instance-reused",
            )
        if arrival.verdict == IN_FLIGHT:
            raise Refused(
                EbmsError(
                    code="EBMS:0005",
                    severity="failure",
                    description="this document is being received under another MessageId; "
                    "send it again later",
                ),
                status=503,
                rule="as4.instance-in-flight",
            )
        if arrival.verdict == REPLAY:
            log.warning(
                "AS4 replay: document already received under another MessageId; "
                "answered, not handed on again",
                extra={
                    "channel": self.channel,
                    "message_id": header.message_id,
                    "first_message_id": arrival.first_message_id,
                    "instance_id": sbdh.instance_id,
                    "c2_seat": seat,
                },
            )
        return (arrival.answer or accepted.receipt), arrival.verdict

    def _error(self, message_id: str, refused: Refused) -> web.Response:
        error = refused.error
        if message_id and not error.ref_to_message_id:
            error = EbmsError(
                code=error.code,
                severity=error.severity,
                short_description=error.short_description,
                category=error.category,
                ref_to_message_id=message_id,
                description=error.description,
                detail=error.detail,
            )
        status = ANSWERED if message_id and refused.status == 400 else refused.status
        return _soap(status, signals.build_error(message_id, [error], self.options.credentials))


def peppol_facts(accepted: Accepted) -> dict[str, Any]:
    """The facts the gateway keeps of a received transmission (keys of
    :mod:`gateway.delivery.peppol_recording`)."""
    header, sbdh = accepted.incoming.header, accepted.sbdh.header
    scopes: dict[str, str] = {}
    if sbdh.mls_type:
        scopes["MLS_TYPE"] = sbdh.mls_type
    if sbdh.mls_to is not None:
        scopes["MLS_TO"] = sbdh.mls_to.value
    return {
        "instance_id": sbdh.instance_id,
        "c2_seat": common_name(accepted.incoming.signer),
        "doctype": sbdh.document_type.value,
        "doctype_scheme": sbdh.document_type.scheme,
        "process": sbdh.process.value,
        "process_scheme": sbdh.process.scheme,
        "c1_country": sbdh.country_c1,
        "sender": sbdh.sender.value,
        "receiver": sbdh.receiver.value,
        "transmission_id": header.message_id,
        "scopes": scopes,
        "origin": origin_evidence(accepted.incoming),
    }


def origin_evidence(incoming: as4.IncomingMessage) -> dict[str, Any]:
    """Who signed a received message and what: the evidence of its origin kept with it.

    The seat id (``c2_seat``) names an access point, not the key that signed: it survives a
    certificate renewal, and two certificates of one AP share it. Kept here are the signing
    certificate — its SHA-256 fingerprint, serial number, issuer and subject (RFC 4514), and
    validity end — and each part the signature covers with its digest (``ds:Reference`` URI
    and SHA-256 ``DigestValue``, in hex: base64 may begin with ``/``, which reads as a file
    path where details are shown; the ``eb:Messaging`` header, the SOAP body and every
    attachment as sent, which the signed receipt repeats). Public facts only: no key, no
    content."""
    cert = incoming.signer
    return {
        "certificate_sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "certificate_serial": format(cert.serial_number, "x"),
        "certificate_issuer": cert.issuer.rfc4514_string(),
        "certificate_subject": cert.subject.rfc4514_string(),
        "certificate_not_after": cert.not_valid_after_utc.isoformat(),
        "signed_parts": [
            {"uri": reference.uri, "digest": _hex_digest(reference.digest)}
            for reference in incoming.signed_references
        ],
    }


def _hex_digest(digest_value: str) -> str:
    """A ``ds:DigestValue`` (base64, verified already) in hex."""
    return base64.b64decode(digest_value).hex()


def _message_id_taken(message_id: str) -> Refused:
    return _refusal(
        "EBMS:0004",
        f"MessageId {message_id} was received from another access point",
        "as4.message-id-taken",
    )


def _refusal(code: str, message: str, rule: str | None) -> Refused:
    return Refused(EbmsError(code=code, severity="failure", description=message), rule=rule or code)


def _peek_message_id(body: bytes) -> str:
    """The MessageId of a message, read without trusting it (for refusals' RefToMessageId
    and the log; the verified one replaces it)."""
    found = _MESSAGE_ID.search(body[: 64 * 1024])
    return found.group(1).decode("ascii", "replace") if found else ""


def _soap(status: int, body: bytes) -> web.Response:
    headers = {"Content-Type": signals.SOAP_CONTENT_TYPE}
    if status == 503:
        headers["Retry-After"] = ASK_TO_WAIT
    return web.Response(status=status, body=body, headers=headers)


def receive_options(
    name: str,
    options: Mapping[str, Any],
    *,
    credentials: Credentials,
    ap_trust: TrustStore | None,
    artefacts_home: Path | None,
) -> ReceiveOptions | None:
    """The receiving options of adapter ``name`` (``None`` without ``receive_path``)."""
    path = str(options.get("receive_path") or "")
    if not path:
        return None
    where = f"adapters.{name}"
    if ap_trust is None:
        raise ConfigError(
            f"adapter {name!r}: receiving needs ap_trust (the sending APs' CA)",
            field=f"{where}.ap_trust",
        )
    if not path.startswith("/"):
        raise ConfigError(
            f"adapter {name!r}: receive_path must start with /", field=f"{where}.receive_path"
        )
    types = options.get("receive_document_types")
    return ReceiveOptions(
        path=path,
        credentials=credentials,
        ap_trust=ap_trust,
        document_types=frozenset(str(t) for t in types) if types else DEFAULT_DOCUMENT_TYPES,
        sbdh_schema=sbdh_schema_path(artefacts_home, f"{where}.receive_path"),
    )


__all__ = ["As4Receiver", "ReceiveOptions", "receive_options"]
